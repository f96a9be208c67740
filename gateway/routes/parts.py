"""The parts catalogue's routes: the car's groups, an illustration with its hotspots and rows, a part by number,
search, and parts requests to a dealer (as JSON, or as CSV for the dealer's system)."""
from gateway.http import UNAUTHENTICATED, V1, read_json, route, single_query
from gateway.spreadsheet import csv_response, wants_csv
from services.parts import schemas as pas

NO_CATALOGUE = (503, "CATALOGUE_NOT_READY: no catalogue imported or indexed yet")
CSV_COLUMNS = ("line", "part_number", "name", "quantity", "unit_net", "net", "currency", "vin", "request", "job")


class Routes:
    @route("GET", V1 + "/parts/catalogue", "The catalogue for a car (`vin`) or a series (`series`): main groups, "
           "subgroups and their illustrations, counted by the rows that fit; without either, the series to choose "
           "from. Narrowed to the car's build data with parts access; a car the registry does not know gets its "
           "series' whole catalogue, said so", "parts", query=pas.CatalogueQuery, answer=pas.Groups,
           errors=(UNAUTHENTICATED, (422, "a parameter breaks a rule, or the VIN is not a car of the catalogue"),
                   NO_CATALOGUE), keys="parts")
    def parts_catalogue(self, request):
        return self._call(self.parts.catalogue, self._reader(request).actor(), single_query(request))

    @route("GET", V1 + "/parts/illustrations/<illustration_id>", "An exploded view: the drawing (a signed link to "
           "an image), its hotspots by callout, and its rows: for a `vin`, those that fit (with `explain=true` also "
           "the others, each with why not); numbers, supersession, kits and prices with parts access", "parts",
           query=pas.IllustrationQuery, answer=pas.IllustrationOut,
           errors=(UNAUTHENTICATED, (404, "no such illustration"),
                   (422, "a parameter breaks a rule, or the illustration is of another series"), NO_CATALOGUE),
           keys="parts")
    def parts_illustration(self, request, illustration_id):
        return self._call(self.parts.illustration, self._reader(request).actor(), illustration_id,
                          single_query(request))

    @route("GET", V1 + "/parts/parts/<number>", "A part by its number, typed with or without spaces: an old number "
           "leads to the current one with the chain; a kit lists what it holds; where it is used and whether it fits "
           "the `vin`", "parts", query=pas.PartQuery, answer=pas.PartOut,
           errors=(UNAUTHENTICATED, (402, "PARTS_ACCESS_REQUIRED: details.tariffs says what to buy"),
                   (404, "PART_NOT_FOUND: details.near lists numbers one or two digits away"),
                   (422, "not a part number, or a parameter breaks a rule"), NO_CATALOGUE), keys="parts")
    def parts_part(self, request, number):
        return self._call(self.parts.part, self._reader(request).actor(), number, single_query(request))

    @route("GET", V1 + "/parts/search", "Find parts (`q`): a part number finds that part (an old one its current), "
           "words find parts by name in English or German, typos forgiven, narrowed to the `vin`", "parts",
           query=pas.SearchQuery, answer=pas.PartsFound,
           errors=(UNAUTHENTICATED, (402, "a part number without parts access"), (404, "no such part number"),
                   (422, "a parameter breaks a rule"), NO_CATALOGUE), keys="parts")
    def parts_search(self, request):
        return self._call(self.parts.search, self._reader(request).actor(), single_query(request))

    @route("POST", V1 + "/parts/requests", "Send a parts list for a car to a dealer: priced now at the workshop's "
           "prices, kept, and told to subscribed dealer systems (PartsRequested)", "parts",
           body=pas.PartsRequestInput, answer=pas.PartsRequestOut, status=201,
           errors=(UNAUTHENTICATED, (402, "PARTS_ACCESS_REQUIRED: the offer"), (404, "a number not in the catalogue"),
                   (422, "a field breaks a rule, or a part sold only in a kit"), NO_CATALOGUE))
    def request_parts(self, request):
        caller = self.auth.caller(request)
        return self._call(self.parts.request_parts, caller.actor(), read_json(request, pas.PartsRequestInput))

    @route("GET", V1 + "/parts/requests", "The workshop's parts requests, newest first (the last 50)", "parts",
           answer=pas.PartsRequestList, errors=(UNAUTHENTICATED,))
    def parts_requests(self, request):
        return self._call(self.parts.requests, self.auth.caller(request).actor())

    @route("GET", V1 + "/parts/requests/<request_id>", "One parts request; with `Accept: text/csv` the CSV a dealer "
           "system reads (a line a row: part number, name, quantity, unit and line net in EUR)", "parts",
           answer=pas.PartsRequestOut, errors=(UNAUTHENTICATED, (404, "no such request")))
    def parts_request(self, request, request_id):
        found = self._call(self.parts.parts_request, self.auth.caller(request).actor(), request_id)
        if wants_csv(request):
            return csv_response(CSV_COLUMNS, request_rows(found), f"aos-parts-request-{found['id']}.csv")
        return found


def request_rows(request):
    """A parts request as a dealer system reads it: numbers as the catalogue keys them (digits only), amounts in
    EUR with a point."""
    for index, line in enumerate(request["lines"], start=1):
        yield (index, line["number"], line["name"], line["quantity"], f"{line['unit_net_cents'] / 100:.2f}",
               f"{line['net_cents'] / 100:.2f}", "EUR", request["vin"], request["id"], request["job_id"] or "")

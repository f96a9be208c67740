"""AIR's routes: technical information, searched and read for a car."""
from gateway.http import NO_VEHICLE, UNAUTHENTICATED, V1, query, route
from services.air import schemas as airs


class Routes:
    @route("GET", V1 + "/air/search", "Search technical information (`q`, `vin`, `type`, `system`, `language`, `page`, "
           "`size`): ranked hits with highlights and facet counts; without access titles only, and `offer`", "AIR",
           query=airs.SearchQuery, answer=airs.SearchOut,
           errors=(UNAUTHENTICATED, NO_VEHICLE, (422, "a parameter breaks a rule, or the page is past the end")),
           keys="air")
    def air_search(self, request):
        return self._call(self.air.search, self._reader(request).actor(), query(request))

    @route("GET", V1 + "/air/suggest", "Titles completing what was typed so far (`q`, `vin`, `language`)", "AIR",
           query=airs.SuggestQuery, answer=airs.SuggestOut,
           errors=(UNAUTHENTICATED, (422, "a parameter breaks a rule")), keys="air")
    def air_suggest(self, request):
        return self._call(self.air.suggest, self._reader(request).actor(), query(request))

    @route("GET", V1 + "/air/documents/<document_id>", "One document, with signed links to its binaries (`vin`: the "
           "car it is opened for)", "AIR", query=airs.DocumentQuery, answer=airs.DocumentOut,
           errors=(UNAUTHENTICATED, (402, "ACCESS_REQUIRED: details.tariffs says what to buy"),
                   (404, "no such document, or no such vehicle"), (422, "the document does not apply to the VIN")),
           keys="air")
    def air_document(self, request, document_id):
        return self._call(self.air.document, self._reader(request).actor(), document_id, query(request))

    @route("GET", V1 + "/air/navigation", "The standard navigation: main groups and document types, counted, "
           "optionally for a `vin`", "AIR", query=airs.NavigationQuery, answer=airs.NavigationOut,
           errors=(UNAUTHENTICATED, NO_VEHICLE, (422, "a parameter breaks a rule")), keys="air")
    def air_navigation(self, request):
        return self._call(self.air.navigation, self._reader(request).actor(), query(request))

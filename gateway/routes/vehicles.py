"""Vehicle data's routes: the VIN decoded, build data, service history, maintenance, campaigns."""
from gateway.http import NO_ACCESS, NO_VEHICLE, UNAUTHENTICATED, V1, read_json, route, single_query
from services.vehicle_data import schemas as vs


class Routes:
    @route("GET", V1 + "/vehicles/<vin>", "The VIN decoded and checked (free for every signed-in user); with "
           "access, the build data and installed ECUs", "vehicle data", answer=vs.VehicleOut,
           errors=(UNAUTHENTICATED, (422, "the VIN breaks a rule: details name it and the position")), keys="vehicles")
    def vehicle(self, request, vin):
        return self._call(self.vehicle_data.vehicle, self._reader(request).actor(), vin)

    @route("GET", V1 + "/vehicles/<vin>/service-records", "The vehicle's service history, newest first",
           "vehicle data", answer=vs.ServiceHistory, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE), keys="vehicles")
    def service_records(self, request, vin):
        return self._call(self.vehicle_data.service_records, self._reader(request).actor(), vin)

    @route("POST", V1 + "/vehicles/<vin>/service-records", "Add a service record, or correct one of yours "
           "(`corrects`) within 14 days", "vehicle data", body=vs.ServiceRecordInput, answer=vs.ServiceRecordOut,
           status=201, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE,
                               (403, "not your record, or older than 14 days"), (422, "a field breaks a rule")))
    def add_service_record(self, request, vin):
        actor = self.auth.caller(request).actor()
        body = read_json(request, vs.ServiceRecordInput)
        return self._call(self.vehicle_data.add_service_record, actor, vin, body)

    @route("POST", V1 + "/vehicles/<vin>/retrofits", "Add an option the workshop fitted to the car's order (its next "
           "version, in the trail): the car's coding then targets it", "vehicle data", body=vs.RetrofitInput,
           answer=vs.RetrofittedOut, status=201, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE,
                                                         (409, "OPTION_IN_ORDER: the order has it already"),
                                                         (422, "not an option code")))
    def retrofit(self, request, vin):
        actor = self.auth.caller(request).actor()
        return self._call(self.vehicle_data.retrofit, actor, vin, read_json(request, vs.RetrofitInput))

    @route("GET", V1 + "/vehicles/<vin>/maintenance", "What is due, by distance and time (`?odometer_km=`)",
           "vehicle data", answer=vs.MaintenanceOut, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE), keys="vehicles")
    def maintenance(self, request, vin):
        return self._call(self.vehicle_data.maintenance, self._reader(request).actor(), vin,
                          single_query(request))

    @route("GET", V1 + "/vehicles/<vin>/campaigns", "Recalls and service campaigns for the vehicle, open or done",
           "vehicle data", answer=vs.CampaignList, errors=(UNAUTHENTICATED, NO_ACCESS, NO_VEHICLE), keys="vehicles")
    def campaigns(self, request, vin):
        return self._call(self.vehicle_data.campaigns, self._reader(request).actor(), vin)

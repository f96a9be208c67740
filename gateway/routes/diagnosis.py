"""The job card and diagnosis: a car's job, the agent's runs at the car, the operations, the report."""
from gateway.http import UNAUTHENTICATED, V1, agent_credentials, read_json, route
from services.programming import schemas as ps
from services.shared.schemas import Empty


class Routes:
    @route("POST", V1 + "/jobs", "Open a job for a car: the customer's complaint and the odometer (technician, "
           "owner); diagnosis through the agent named", "diagnosis", body=ps.OpenJob, answer=ps.JobOut, status=201,
           errors=(UNAUTHENTICATED, (402, "no remote-diagnosis time and no VIN pass for the car: the offer"),
                   (404, "no such vehicle or agent"), (422, "a field breaks a rule")))
    def open_job(self, request):
        caller = self.auth.caller(request)
        return self._call(self.programming.open_job, caller.actor(), read_json(request, ps.OpenJob))

    @route("GET", V1 + "/jobs", "The workshop's jobs, newest first (the last 50)", "diagnosis", answer=ps.JobList,
           errors=(UNAUTHENTICATED,))
    def jobs(self, request):
        return self._call(self.programming.jobs, self.auth.caller(request).actor())

    @route("GET", V1 + "/jobs/<job_id>", "A job: fault memory before and after, each code's documents and ranked "
           "repair instructions for the car, runs with live data, operations and estimate", "diagnosis",
           answer=ps.JobOut, errors=(UNAUTHENTICATED, (404, "no such job")))
    def job(self, request, job_id):
        return self._call(self.programming.job, self.auth.caller(request).actor(), job_id)

    @route("POST", V1 + "/jobs/<job_id>/runs", "Diagnose through the agent: a quick test, live data, an actuator test "
           "or a clear; paid before it is queued, its clock runs while the agent works", "diagnosis",
           body=ps.RunInput, answer=ps.RunOut, status=201,
           errors=(UNAUTHENTICATED, (402, "no remote-diagnosis time and no VIN pass for the car: the offer"),
                   (404, "no such job"), (409, "the job is closed, or a run is still going"),
                   (422, "a field breaks a rule")))
    def start_run(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.start_run, caller.actor(), job_id, read_json(request, ps.RunInput))

    @route("GET", V1 + "/jobs/<job_id>/runs/<run_id>", "One diagnosis run as it goes: state, clock, live data so "
           "far (what a screen polls while the agent reads)", "diagnosis", answer=ps.RunOut,
           errors=(UNAUTHENTICATED, (404, "no such job or run")))
    def job_run(self, request, job_id, run_id):
        return self._call(self.programming.run, self.auth.caller(request).actor(), job_id, run_id)

    @route("PUT", V1 + "/jobs/<job_id>/operations", "The operations picked: repair instructions for the car, each "
           "with its labour time from the document; the estimate follows", "diagnosis", body=ps.OperationsInput,
           answer=ps.JobOut, errors=(UNAUTHENTICATED, (402, "no information access: the offer"),
                                     (404, "no such job or document"), (409, "the job is closed"),
                                     (422, "a document without a labour time")))
    def choose_operations(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.choose_operations, caller.actor(), job_id,
                          read_json(request, ps.OperationsInput))

    @route("POST", V1 + "/jobs/<job_id>/parts", "Put a part on the job at a quantity (the catalogue's \"add to "
           "job\"; again, its quantity changes): priced at the workshop's prices, the estimate follows",
           "diagnosis", body=ps.JobPart, answer=ps.JobOut,
           errors=(UNAUTHENTICATED, (402, "PARTS_ACCESS_REQUIRED: the offer"),
                   (404, "no such job, or no such part in the catalogue"), (409, "the job is closed"),
                   (422, "a field breaks a rule, or a part sold only in a kit")))
    def put_job_part(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.put_part, caller.actor(), job_id, read_json(request, ps.JobPart))

    @route("PUT", V1 + "/jobs/<job_id>/parts", "The job's whole parts list as edited (a line left out is taken off), "
           "priced again", "diagnosis", body=ps.JobParts, answer=ps.JobOut,
           errors=(UNAUTHENTICATED, (402, "PARTS_ACCESS_REQUIRED: the offer"),
                   (404, "no such job, or no such part in the catalogue"), (409, "the job is closed"),
                   (422, "a field breaks a rule")))
    def set_job_parts(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.set_parts, caller.actor(), job_id, read_json(request, ps.JobParts))

    @route("POST", V1 + "/jobs/<job_id>/close", "Close the job: the service record written, the PDF report kept",
           "diagnosis", answer=ps.JobOut, errors=(UNAUTHENTICATED, (404, "no such job"),
                                                  (409, "closed already, or no quick test yet")))
    def close_job(self, request, job_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.programming.close_job, caller.actor(), job_id)

    @route("GET", V1 + "/jobs/<job_id>/report", "The job report (PDF): a link valid for a few minutes", "diagnosis",
           answer=ps.LinkOut, errors=(UNAUTHENTICATED, (404, "no such job"), (409, "the job is not closed yet")))
    def job_report(self, request, job_id):
        return self._call(self.programming.job_report, self.auth.caller(request).actor(), job_id)

    @route("POST", V1 + "/agents/runs/<run_id>/samples", "Agent: a batch of live data; the run's clock counts to now",
           "diagnosis", body=ps.Samples, answer=ps.SamplesOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's run"),
                   (409, "the run is not running")), lane="agents")
    def agent_samples(self, request, run_id):
        return self._call(self.agent_lane.run_samples, agent_credentials(request), run_id,
                          read_json(request, ps.Samples))

    @route("POST", V1 + "/agents/runs/<run_id>/report", "Agent: a diagnosis run's result (decoded through the ODX)",
           "diagnosis", body=ps.RunReport, answer=ps.RunOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's run"),
                   (409, "the run is not running"), (422, "a field breaks a rule")), lane="agents")
    def agent_run_report(self, request, run_id):
        return self._call(self.agent_lane.run_report, agent_credentials(request), run_id,
                          read_json(request, ps.RunReport))

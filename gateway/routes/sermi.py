"""SERMI: the technician's authorisation, security jobs on a car, and what the agent calls in a security task."""
from werkzeug.wrappers import Response

from gateway.http import UNAUTHENTICATED, V1, agent_credentials, json_response, read_json, route, single_query
from services.identity import schemas as ids
from services.programming import schemas as ps
from services.shared.errors import AosError
from services.shared.schemas import Empty

SERMI_COOKIE = "aos_sermi_link"  # the secret that binds a link to the browser that started it


class Routes:
    @route("POST", V1 + "/sermi/link", "Start linking your SERMI authorisation: where to sign in at the trust centre "
           "(OpenID Connect, authorization code with PKCE)", "SERMI", answer=ids.SermiLinkOut,
           errors=(UNAUTHENTICATED, (503, "no trust centre configured, or it does not answer")))
    def start_sermi_link(self, request):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        started = self._call(self.identity.start_sermi_link, caller.actor())
        browser = started.pop("browser_binding")
        response = json_response(started)
        # the trust centre's answer comes back through this browser only: the secret rides in a cookie that scripts
        # cannot read and that only the callback receives (Lax: sent on the trust centre's redirect, a top-level GET)
        response.set_cookie(SERMI_COOKIE, browser, max_age=started["expires_in"], path=V1 + "/sermi/callback",
                            httponly=True, samesite="Lax", secure=request.scheme == "https")
        return response

    @route("GET", V1 + "/sermi/callback", "The trust centre sends the browser back here; it goes on to the portal's "
           "SERMI screen (`#/sermi?linked=1`, or `?refused=<code>`)", "SERMI", public=True, query=ids.SermiCallback,
           status=303)
    def sermi_callback(self, request):
        try:
            self._call(self.identity.complete_sermi_link, single_query(request), request.cookies.get(SERMI_COOKIE))
            target = "/#/sermi?linked=1"
        except AosError as exc:  # the portal says why in words; the trail has it too
            target = f"/#/sermi?refused={exc.code}"
        response = Response(status=303, headers={"Location": target})
        response.delete_cookie(SERMI_COOKIE, path=V1 + "/sermi/callback")
        return response

    @route("GET", V1 + "/sermi", "Your SERMI authorisation as the trust centre last confirmed it, and until when it "
           "is fresh enough for security-related work (15 minutes after the sign-in there)", "SERMI",
           answer=ids.SermiOut, errors=(UNAUTHENTICATED,))
    def sermi(self, request):
        return self._call(self.identity.sermi, self.auth.caller(request).actor())

    @route("POST", V1 + "/sermi/check", "Ready for security-related work? Signed in at the trust centre within 15 "
           "minutes, and the trust centre confirms the authorisation now", "SERMI", answer=ids.SermiOut,
           errors=(UNAUTHENTICATED, (403, "not linked, the sign-in is stale, or the authorisation was revoked"),
                   (503, "the trust centre does not answer")))
    def sermi_check(self, request):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.identity.sermi_check, caller.actor())

    @route("POST", V1 + "/security/jobs", "Security-related work on a car (SERMI): the vehicle owner's identity "
           "recorded first, by a technician signed in at the trust centre within 15 minutes", "SERMI",
           body=ps.SecurityJobInput, answer=ps.SecurityJobOut, status=201,
           errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"), (404, "no such car"),
                   (503, "the trust centre does not answer")))
    def open_security_job(self, request):
        caller = self.auth.caller(request)
        return self._call(self.programming.open_security_job, caller.actor(), read_json(request, ps.SecurityJobInput))

    @route("GET", V1 + "/security/jobs", "The workshop's security jobs, newest first", "SERMI",
           answer=ps.SecurityJobList, errors=(UNAUTHENTICATED,))
    def security_jobs(self, request):
        return self._call(self.programming.security_jobs, self.auth.caller(request).actor())

    @route("POST", V1 + "/security/jobs/<job_id>/gateway-unlock", "A one-time unlock token for the car's secure "
           "gateway, for the challenge it shows (typed in, or read by the agent)", "SERMI", body=ps.UnlockInput,
           answer=ps.UnlockOut, errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"),
                                        (404, "no such job of yours"), (409, "the job closed, or this challenge "
                                                                             "was answered"),
                                        (422, "not this car's secure gateway")))
    def gateway_unlock(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.gateway_unlock, caller.actor(), job_id, read_json(request, ps.UnlockInput))

    @route("POST", V1 + "/security/jobs/<job_id>/keys", "Program a key into the car's immobiliser: the workshop's "
           "agent at the car takes it with its next job", "SERMI", body=ps.KeyJobInput, answer=ps.TaskOut,
           status=201, errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"),
                               (404, "no such job of yours"), (409, "the job closed, or the car has no immobiliser"),
                               (422, "not an agent of your workshop")))
    def program_key(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.program_key, caller.actor(), job_id, read_json(request, ps.KeyJobInput))

    @route("POST", V1 + "/security/jobs/<job_id>/gateway-unlock/agent", "Unlock the car's secure gateway online: "
           "the workshop's agent at the car reads its challenge, gets the token and writes it", "SERMI",
           body=ps.AgentUnlockInput, answer=ps.TaskOut, status=201,
           errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"), (404, "no such job of yours"),
                   (409, "the job closed, or the car has no secure gateway"), (422, "not an agent of your workshop")))
    def unlock_by_agent(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.unlock_by_agent, caller.actor(), job_id,
                          read_json(request, ps.AgentUnlockInput))

    @route("POST", V1 + "/security/jobs/<job_id>/pairing", "Pair a theft-relevant replacement unit (engine control, "
           "immobiliser, steering lock) with the car: the workshop's agent at the car reads its challenge, gets the "
           "pairing token from the key store and writes it", "SERMI", body=ps.PairingInput, answer=ps.TaskOut,
           status=201, errors=(UNAUTHENTICATED, (403, "no fresh SERMI authorisation, or revoked"),
                               (404, "no such job of yours"), (409, "the job closed"),
                               (422, "not a theft-relevant unit of the car, or not an agent of your workshop")))
    def pair_unit(self, request, job_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.pair_unit, caller.actor(), job_id, read_json(request, ps.PairingInput))

    @route("GET", V1 + "/security/tasks/<task_id>", "A task of the agent at the car: queued, running, done or "
           "failed", "SERMI", answer=ps.TaskOut, errors=(UNAUTHENTICATED, (404, "no such task in your workshop")))
    def task(self, request, task_id):
        return self._call(self.programming.task, self.auth.caller(request).actor(), task_id)

    @route("POST", V1 + "/agents/tasks/<task_id>/security-key", "Agent: the immobiliser's key for its seed, for a "
           "running key task only (recorded)", "SERMI", body=ps.SeedInput, answer=ps.KeyOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's task"),
                   (409, "the task is not running"), (422, "not the task's immobiliser")), lane="agents")
    def agent_task_security_key(self, request, task_id):
        return self._call(self.agent_lane.task_security_key, agent_credentials(request), task_id,
                          read_json(request, ps.SeedInput))

    @route("POST", V1 + "/agents/tasks/<task_id>/gateway-token", "Agent: the unlock token for the challenge it read "
           "from the car's secure gateway, in a running unlock task (once per challenge)", "SERMI",
           body=ps.ChallengeInput, answer=ps.TokenOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's task"),
                   (409, "the task is not running, or the challenge was answered")), lane="agents")
    def agent_task_gateway_token(self, request, task_id):
        return self._call(self.agent_lane.task_gateway_token, agent_credentials(request), task_id,
                          read_json(request, ps.ChallengeInput))

    @route("POST", V1 + "/agents/tasks/<task_id>/pairing-token", "Agent: the pairing token for the challenge it "
           "read from a theft-relevant replacement, in a running pairing task (recorded)", "SERMI",
           body=ps.ChallengeInput, answer=ps.TokenOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's task"),
                   (409, "the task is not running")), lane="agents")
    def agent_task_pairing_token(self, request, task_id):
        return self._call(self.agent_lane.task_pairing_token, agent_credentials(request), task_id,
                          read_json(request, ps.ChallengeInput))

    @route("POST", V1 + "/agents/tasks/<task_id>/report", "Agent: the task is done, or it failed", "SERMI",
           body=ps.TaskReport, answer=ps.TaskOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's task")), lane="agents")
    def agent_task_report(self, request, task_id):
        return self._call(self.agent_lane.task_report, agent_credentials(request), task_id,
                          read_json(request, ps.TaskReport))

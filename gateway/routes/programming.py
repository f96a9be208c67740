"""Programming's routes: the workshop's agents and programming sessions, and what an agent calls in a session (its lane
of its own)."""
from gateway.http import FORBIDDEN, UNAUTHENTICATED, V1, agent_credentials, read_json, route
from services.programming import schemas as ps
from services.shared.schemas import Empty


class Routes:
    @route("POST", V1 + "/agents", "Register a workshop agent (the pass-through client): its credential is shown "
           "once", "programming", body=ps.AgentInput, answer=ps.AgentOut, status=201, errors=(UNAUTHENTICATED,))
    def register_agent(self, request):
        caller = self.auth.caller(request)
        return self._call(self.programming.register_agent, caller.actor(), read_json(request, ps.AgentInput))

    @route("GET", V1 + "/agents", "The workshop's agents, and which are online", "programming",
           answer=ps.AgentList, errors=(UNAUTHENTICATED,))
    def agents(self, request):
        return self._call(self.programming.agents, self.auth.caller(request).actor())

    @route("PATCH", V1 + "/agents/<agent_id>", "Rename an agent (owner, admin)", "programming", body=ps.AgentInput,
           answer=ps.AgentSeen, errors=(UNAUTHENTICATED, FORBIDDEN, (404, "no such agent in your workshop")))
    def rename_agent(self, request, agent_id):
        caller = self.auth.caller(request)
        return self._call(self.programming.rename_agent, caller.actor(), agent_id, read_json(request, ps.AgentInput))

    @route("POST", V1 + "/agents/<agent_id>/credential", "A new credential for an agent, shown once; the old one "
           "stops working (owner, admin)", "programming", answer=ps.AgentOut,
           errors=(UNAUTHENTICATED, FORBIDDEN, (404, "no such agent in your workshop"), (409, "the agent is revoked")))
    def renew_agent_credential(self, request, agent_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.programming.renew_agent_credential, caller.actor(), agent_id)

    @route("POST", V1 + "/agents/<agent_id>/revoke", "Revoke an agent: refused at once, the clock of a session it "
           "runs stops (owner, admin)", "programming", answer=ps.AgentSeen,
           errors=(UNAUTHENTICATED, FORBIDDEN, (404, "no such agent in your workshop")))
    def revoke_agent(self, request, agent_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.programming.revoke_agent, caller.actor(), agent_id)

    @route("POST", V1 + "/programming/sessions", "Open a session for a VIN and an agent: pre-flight runs, the clock "
           "does not", "programming", body=ps.OpenSession, answer=ps.SessionOut, status=201,
           errors=(UNAUTHENTICATED, (404, "no such agent in your workshop, or no such vehicle"),
                   (409, "the agent has a session open"), (422, "a field breaks a rule")))
    def open_session(self, request):
        caller = self.auth.caller(request)
        return self._call(self.programming.open_session, caller.actor(), read_json(request, ps.OpenSession))

    @route("GET", V1 + "/programming/sessions", "The workshop's programming sessions, newest first (the last 50)",
           "programming", answer=ps.SessionList, errors=(UNAUTHENTICATED,))
    def programming_sessions(self, request):
        return self._call(self.programming.sessions, self.auth.caller(request).actor())

    @route("GET", V1 + "/programming/sessions/<session_id>", "State, pre-flight checklist, plan, progress, time "
           "used and left", "programming", answer=ps.SessionOut, errors=(UNAUTHENTICATED, (404, "no such session")))
    def programming_session(self, request, session_id):
        return self._call(self.programming.session, self.auth.caller(request).actor(), session_id)

    @route("POST", V1 + "/programming/sessions/<session_id>/start", "Start flashing: the clock starts (a technician "
           "or owner whose login passed the second factor within 15 minutes)", "programming", answer=ps.SessionOut,
           errors=(UNAUTHENTICATED, (402, "no programming time and no VIN pass for the car"),
                   (403, "STEP_UP_REQUIRED or ROLE_NOT_ALLOWED"), (404, "no such session"),
                   (409, "pre-flight has not passed, or SECURITY_JOB_REQUIRED: the plan holds a theft-relevant ECU and "
                         "no SERMI security job is open on the car")))
    def start_session(self, request, session_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        actor = caller.actor()
        return self._call(self.programming.start, actor, session_id)

    @route("POST", V1 + "/programming/sessions/<session_id>/end", "Close the session: what ran is billed, the "
           "rest of the reservation goes back", "programming", answer=ps.SessionOut,
           errors=(UNAUTHENTICATED, (404, "no such session"), (409, "it has ended")))
    def end_session(self, request, session_id):
        caller = self.auth.caller(request)
        read_json(request, Empty)
        return self._call(self.programming.end, caller.actor(), session_id)

    @route("GET", V1 + "/agents/jobs", "Agent: the next job (`Authorization: Agent <id>:<credential>`)",
           "programming", answer=ps.Job, errors=((401, "unknown agent or wrong credential"),), lane="agents")
    def agent_job(self, request):
        return self._call(self.agent_lane.next_job, agent_credentials(request))

    @route("POST", V1 + "/agents/sessions/<session_id>/heartbeat", "Agent: alive, with progress; the clock counts "
           "while these come", "programming", body=ps.Heartbeat, answer=ps.SessionClock,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's session")), lane="agents")
    def agent_heartbeat(self, request, session_id):
        return self._call(self.agent_lane.heartbeat, agent_credentials(request), session_id,
                          read_json(request, ps.Heartbeat))

    @route("POST", V1 + "/agents/sessions/<session_id>/report", "Agent: a numbered report (pre-flight reading, "
           "files verified, per-ECU result); a report refused is final: the session ends with the refusal "
           "(details.final)", "programming", body=ps.AgentReport, answer=ps.SessionOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's session"),
                   (409, "out of order, or not possible in the session's state"),
                   (422, "a field breaks a rule; at pre-flight, an ECU read twice, not in the car, or whose hardware "
                         "number contradicts the vehicle registry")),
           lane="agents")
    def agent_report(self, request, session_id):
        return self._call(self.agent_lane.report, agent_credentials(request), session_id,
                          read_json(request, ps.AgentReport))

    @route("POST", V1 + "/agents/sessions/<session_id>/security-key", "Agent: the key for an ECU's security access "
           "seed, for an ECU of the running session's plan (by its type as the registry records it; each key "
           "recorded). A refusal is final: the session ends with it (details.final), at no charge when the step was "
           "one of the server's own plan", "programming",
           body=ps.SeedInput, answer=ps.KeyOut,
           errors=((401, "unknown agent or wrong credential"), (404, "not this agent's session"),
                   (403, "SECURITY_JOB_REQUIRED: a theft-relevant ECU without the session's security job"),
                   (409, "the session is not running, or the ECU is flashed already"),
                   (422, "the ECU is not in the session's plan")), lane="agents")
    def agent_security_key(self, request, session_id):
        return self._call(self.agent_lane.security_key, agent_credentials(request), session_id,
                          read_json(request, ps.SeedInput))

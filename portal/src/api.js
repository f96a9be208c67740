// The gateway's public API (/api/v1), as a mobile app would use it: JSON in and out, a bearer token that is
// refreshed once when it has run out, and every error as an ApiError that names its code and fields.
import { useEffect, useState } from 'preact/hooks';

const BASE = '/api/v1';
const STORE = 'aos.session';

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || 'HTTP_' + status;
    this.details = error.details || {};
    this.fields = flatten(this.details.fields || {});
    if (this.details.field && !this.fields[this.details.field]) this.fields[this.details.field] = [this.message];
  }
}

// {"operator": {"address": {"city": ["..."]}}} -> {"operator.address.city": ["..."]}
function flatten(messages, prefix = '', out = {}) {
  for (const [key, value] of Object.entries(messages)) {
    if (Array.isArray(value)) out[prefix + key] = value.map(String);
    else if (value && typeof value === 'object') flatten(value, `${prefix}${key}.`, out);
    else out[prefix + key] = [String(value)];
  }
  return out;
}

// The signed-in state: tokens (kept for this browser tab only) and who the user is.
const listeners = new Set();
let session = JSON.parse(sessionStorage.getItem(STORE) || 'null');

export function currentSession() { return session; }

export function setSession(next) {
  session = next;
  if (next) sessionStorage.setItem(STORE, JSON.stringify(next));
  else sessionStorage.removeItem(STORE);
  listeners.forEach((listener) => listener(session));
}

export function useSession() {
  const [value, setValue] = useState(session);
  useEffect(() => { listeners.add(setValue); return () => listeners.delete(setValue); }, []);
  return value;
}

// The device token this browser got at its last sign-in (kept across tabs and restarts): sent with the next
// sign-in, it keeps the account open here whatever failures happen elsewhere.
const DEVICE = 'aos.device';

export function withDevice(body) {
  const device = localStorage.getItem(DEVICE);
  return device ? { ...body, device_token: device } : body;
}

export async function signIn(tokens) {
  if (tokens.device_token) localStorage.setItem(DEVICE, tokens.device_token);
  setSession({ ...(session || {}), tokens, me: null });
  const me = await api('GET', '/me');
  setSession({ tokens, me });
  return me;
}

export async function signOut() {
  const refresh = session && session.tokens && session.tokens.refresh_token;
  try {
    if (refresh) await api('POST', '/auth/logout', { body: { refresh_token: refresh } });
  } finally {
    setSession(null);
  }
}

// After something that changes what the tokens say (a confirmed address): new tokens, and who the user is now.
export async function renewSession() {
  if (session && await refresh()) setSession({ ...session, me: await api('GET', '/me') });
}

async function refresh() {
  const token = session && session.tokens && session.tokens.refresh_token;
  if (!token) return false;
  const res = await fetch(BASE + '/auth/refresh', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: token }),
  });
  if (!res.ok) { setSession(null); return false; }
  setSession({ ...session, tokens: await res.json() });
  return true;
}

export function newIdempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

// token: a token other than the session's (the enrolment token); raw: answer the Response (for PDFs)
export async function api(method, path, { body, headers = {}, token, raw = false, retry = true } = {}) {
  const bearer = token || (session && session.tokens && session.tokens.access_token);
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (bearer) init.headers.Authorization = 'Bearer ' + bearer;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch (exc) {
    throw new ApiError(0, { error: { code: 'NETWORK', message: 'AOS cannot be reached.' } });
  }
  if (res.status === 401 && !token && retry && session && (await refresh())) {
    return api(method, path, { body, headers, raw, retry: false });
  }
  if (!res.ok) {
    let payload = null;
    try { payload = await res.json(); } catch (exc) { /* not JSON: the status says it */ }
    throw new ApiError(res.status, payload);
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}

// Loads `path` (when it is not null) and again whenever `deps` change: {data, error, loading, reload}
export function useApi(path, deps = [path]) {
  const [state, setState] = useState({ data: null, error: null, loading: !!path });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) { setState({ data: null, error: null, loading: false }); return undefined; }
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api('GET', path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => { live = false; };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((n) => n + 1) };
}

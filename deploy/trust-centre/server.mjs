// The demo SERMI trust centre: a certified OpenID provider (oidc-provider) that signs in technicians and tells
// relying parties, in the ID token, who authorised them (CABUID: the conformity assessment body), for which
// workshop (IOUID: name, address, VAT id) and as whom (IOEUID: country, body, authorisation id), and, for a remote
// employee acting for a workshop's employee, that chain (accepted within 24 h).
//
//   node server.mjs <config.json>
//
// config.json: {"issuer": "http://127.0.0.1:8491", "port": 8491, "clients": [{client_id, redirect_uris}],
//               "technicians": "<technicians.json>"}
// technicians.json: {"<login>": {"cabuid": ..., "iouid": {...}, "ioeuid": {...}, "chain": {...}?,
//                                "revoked": false}}; it is read again on every request, so a revocation (or a
// new technician) takes effect at once: a revoked technician's sign-in, tokens and userinfo are refused.
// Sign-in is a page of its own (any password: the demo stands in for the trust centre's real one).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const technicians = () => JSON.parse(readFileSync(config.technicians, 'utf8'));

async function findAccount(ctx, id) {
  const technician = technicians()[id];
  if (!technician || technician.revoked) return undefined;
  return {
    accountId: id,
    async claims() {
      const { revoked, ...claims } = technician;
      return { sub: id, ...claims };
    },
  };
}

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    token_endpoint_auth_method: 'none', // a public client: the authorization code is bound by PKCE (S256)
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...c,
  })),
  findAccount,
  scopes: ['openid', 'sermi'],
  claims: { openid: ['sub'], sermi: ['cabuid', 'iouid', 'ioeuid', 'chain'] },
  conformIdTokenClaims: false, // the SERMI claims travel in the ID token itself
  pkce: { required: () => true },
  ttl: { AccessToken: 900, AuthorizationCode: 60, IdToken: 900, Interaction: 600, Session: 3600, Grant: 3600 },
  cookies: { keys: [config.cookie_key || 'aos-demo-trust-centre-cookie-key'] },
  features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  loadExistingGrant: async (ctx) => { // the workshop's relying party is first-party: no consent screen
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid sermi');
    grant.addOIDCClaims(['cabuid', 'iouid', 'ioeuid', 'chain']);
    await grant.save();
    return grant;
  },
});
provider.proxy = true;

// The sign-in page: the technician's login at the trust centre (the demo takes any password). A technician it does
// not know, or whose authorisation it revoked, is refused here: the relying party hears `access_denied`.
const page = (uid, note = '') => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo SERMI trust centre: sign in</title>
<style>body{font-family:sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}
input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.6rem 1.2rem}</style></head>
<body><main><h1>Demo SERMI trust centre</h1><p>Sign in as a technician to confirm your SERMI authorisation to AOS.</p>
${note ? `<p role="alert">${note}</p>` : ''}
<form method="post" action="/interaction/${uid}"><input type="hidden" name="prompt" value="login">
<label for="login">Technician</label><input id="login" name="login" required autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="current-password">
<button type="submit">Sign in</button></form></main></body></html>`;

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (!match) return next();
  const { uid } = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = page(uid);
    return undefined;
  }
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
  const technician = technicians()[body.login];
  const result = technician && !technician.revoked
    ? { login: { accountId: body.login } }
    : { error: 'access_denied',
        error_description: technician ? 'the SERMI authorisation of this technician is revoked' : 'no such technician' };
  ctx.respond = false; // the provider answers the browser itself (a redirect back into the flow)
  return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`demo trust centre: ${config.issuer} (technicians in ${config.technicians})`);
});

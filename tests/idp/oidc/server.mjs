// A real OpenID provider (oidc-provider, certified) on 127.0.0.1 for the sign-in tests.
//
//   node server.mjs --port 0 [--config config.json]      (PORT and OIDC_TEST_IDP_CONFIG work too)
//
// Port 0 lets the OS choose; the issuer is http://127.0.0.1:<port> and the server prints
// `READY http://127.0.0.1:<port>` on stdout once it listens. SIGTERM or SIGINT stops it.
// The pytest fixture in tests/idp/oidc.py starts it and wraps the control endpoints below.
//
// The config (JSON, every key optional): {"clients": [<client metadata>, ...],
// "accounts": {"<sub>": {<claims>}, ...}}. Without clients it registers three, each allowed the
// grant `authorization_code` and response type `code`:
//   rp-basic   secret rp-basic-secret    token_endpoint_auth_method client_secret_basic
//   rp-post    secret rp-post-secret     token_endpoint_auth_method client_secret_post
//   rp-public  no secret                 token_endpoint_auth_method none (PKCE S256 required)
// with a placeholder redirect URI; tests register theirs through /__control/clients.
//
// Signing keys: two RSA keys (RS256) and one P-256 key (ES256) are published in the JWKS. The
// first RSA key signs RS256 (the second is published only, as a provider's next key is); the EC key
// signs for clients registered with id_token_signed_response_alg ES256.
//
// Control endpoints (test only, JSON bodies, JSON answers):
//   GET  /__control/state      clients, accounts, published kids, the kid signing each alg, faults
//   POST /__control/clients    {"clients": [...]}: replaces the client list
//   POST /__control/accounts   {"sub": "...", "claims": {...}}: sets or replaces that account's
//                              claims ({"sub": "...", "delete": true} removes it)
//   POST /__control/rotate     {"alg": "RS256"|"ES256", "keep_previous": true}: signs with a new key
//                              that was never published before (answers {"kid": ...}); the previous
//                              keys stay published unless keep_previous is false
//   POST /__control/faults     {"<endpoint>": {"status": 500, "body": "...", "content_type": "...",
//                              "delay_ms": 0, "times": n}, ...}: replaces the faults. Endpoints:
//                              discovery, jwks, authorization, token, userinfo, end_session. With a
//                              status or body the endpoint answers that instead of the provider;
//                              with delay_ms alone it answers late; times limits the fault to the
//                              next n requests. {} clears them.
//   GET  /__control/requests   requests served per endpoint since the start or the last reset
//   POST /__control/reset      back to the start: clients, accounts, keys, faults, counters
//
// Signing in (a browser or a plain HTTP client; both keep the provider's cookies):
//   1. GET the authorization URL: 303 to /interaction/<uid>, which sets the interaction cookie.
//   2. GET /interaction/<uid>: the sign-in page, a form posting `login` (the account's sub) to
//      /interaction/<uid>/login; a second form posts to /interaction/<uid>/abort ("Cancel"), which
//      ends the request with error=access_denied. An unknown account answers 401 with the form.
//   3. The POST answers 303 to /auth/<uid>, which answers 303 to the client's redirect_uri with
//      code and state (or error). Consent is granted automatically for every scope and claim asked.
// The provider keeps a browser session: a second authorization in the same cookie jar signs in
// without the form (as at a real provider) unless the client sends prompt=login; use a new
// cookie jar or browser context for a different account.
//
// Claims: the account's claims come back as set. Standard claims are released by their standard
// scopes (profile, email, address, phone); every other claim (groups, custom ones) is released with
// the openid scope, so it is in the ID token and userinfo whatever else is asked (`groups` is also
// a scope of its own). The ID token carries every released claim (conformIdTokenClaims off).

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const PLACEHOLDER_REDIRECT_URI = 'http://127.0.0.1/callback';

const DEFAULT_CLIENTS = [
  { client_id: 'rp-basic', client_secret: 'rp-basic-secret', token_endpoint_auth_method: 'client_secret_basic' },
  { client_id: 'rp-post', client_secret: 'rp-post-secret', token_endpoint_auth_method: 'client_secret_post' },
  { client_id: 'rp-public', token_endpoint_auth_method: 'none' },
].map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: [PLACEHOLDER_REDIRECT_URI],
  ...client,
}));

const STANDARD_CLAIMS = {
  profile: [
    'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile',
    'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};
const STANDARD_NAMES = new Set(['sub', ...Object.values(STANDARD_CLAIMS).flat()]);

const ROUTES = {
  authorization: '/auth',
  end_session: '/session/end',
  jwks: '/jwks',
  token: '/token',
  userinfo: '/me',
};
const ENDPOINTS = new Map([
  ['/.well-known/openid-configuration', 'discovery'],
  ...Object.entries(ROUTES).map(([name, path]) => [path, name]),
]);

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, config: { type: 'string' } },
});
const port = Number(args.port ?? process.env.PORT ?? 0);
const startConfig = args.config
  ? JSON.parse(readFileSync(args.config, 'utf8'))
  : JSON.parse(process.env.OIDC_TEST_IDP_CONFIG || '{}');

let keyCount = 0;
function newKey(alg) {
  keyCount += 1;
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  // Never reused, even after a reset, so a relying party's cached JWKS cannot hold another key
  // under the same kid.
  const kid = `${alg.toLowerCase()}-${keyCount}-${randomBytes(4).toString('hex')}`;
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const initialKeys = [newKey('RS256'), newKey('RS256'), newKey('ES256')];
const cookieKeys = [randomBytes(32).toString('base64url')];

const state = {};
function resetState() {
  state.clients = structuredClone(startConfig.clients ?? DEFAULT_CLIENTS);
  state.accounts = new Map(Object.entries(structuredClone(startConfig.accounts ?? {})));
  state.keys = [...initialKeys];
  state.faults = {};
  state.requests = {};
}
resetState();

function claimsConfig() {
  const custom = new Set(['groups']);
  for (const claims of state.accounts.values()) {
    for (const name of Object.keys(claims)) {
      if (!STANDARD_NAMES.has(name)) custom.add(name);
    }
  }
  return { ...STANDARD_CLAIMS, groups: ['groups'], openid: ['sub', ...custom] };
}

function page(title, body, status = 200) {
  return {
    status,
    html: `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>body{font-family:sans-serif;max-width:24rem;margin:2rem auto}label,input,button{display:block;margin:.5rem 0}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`,
  };
}

function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function send(res, { status, html }) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

let provider;
let handle;
function build(issuer) {
  const next = new Provider(issuer, {
    clients: state.clients,
    jwks: { keys: state.keys },
    cookies: { keys: cookieKeys },
    claims: claimsConfig(),
    conformIdTokenClaims: false,
    routes: ROUTES,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Sign out', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`).html;
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<p>You are signed out.</p>').html;
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const claims = state.accounts.get(sub);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ ...structuredClone(claims), sub }) };
    },
    // Consent is implied: the grant covers every scope and claim the request asks for.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
      const grant = (grantId && await oidc.provider.Grant.find(grantId))
        || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      grant.addOIDCClaims([...oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    async renderError(ctx, out) {
      const items = Object.entries(out).map(([key, value]) => `<p><strong>${escape(key)}</strong>: ${escape(value)}</p>`);
      ctx.type = 'html';
      ctx.body = page('Error', items.join('')).html;
    },
  });
  // Quiet: a refused request is an expected outcome in these tests, not a server error.
  next.on('server_error', (ctx, error) => console.error('server_error', error));
  provider = next;
  handle = next.callback();
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function publicState() {
  const signing = {};
  for (const key of state.keys) signing[key.alg] ??= key.kid;
  return {
    issuer: provider.issuer,
    clients: state.clients,
    accounts: Object.fromEntries(state.accounts),
    kids: state.keys.map((key) => key.kid),
    signing_kids: signing,
    faults: state.faults,
  };
}

async function control(req, res, path, issuer) {
  let body = {};
  try {
    if (req.method === 'POST') body = JSON.parse((await readBody(req)) || '{}');
  } catch (error) {
    return json(res, 400, { error: `not JSON: ${error.message}` });
  }
  const route = `${req.method} ${path}`;
  switch (route) {
    case 'GET /__control/state':
      return json(res, 200, publicState());
    case 'GET /__control/requests':
      return json(res, 200, state.requests);
    case 'POST /__control/clients': {
      if (!Array.isArray(body.clients)) return json(res, 400, { error: 'expected {"clients": [...]}' });
      const previous = state.clients;
      state.clients = body.clients;
      try {
        build(issuer);
        // oidc-provider checks a static client's metadata when it is first looked up: do it now, so a
        // mistake fails the test's set-up instead of showing up as an error page at sign-in.
        for (const { client_id: clientId } of state.clients) {
          if (!await provider.Client.find(String(clientId))) throw new Error(`client ${clientId} not found`);
        }
      } catch (error) {
        state.clients = previous;
        build(issuer);
        const description = error.error_description ? `: ${error.error_description}` : '';
        return json(res, 400, { error: `${error.message ?? error}${description}` });
      }
      return json(res, 200, { clients: state.clients });
    }
    case 'POST /__control/accounts': {
      if (typeof body.sub !== 'string' || !body.sub) return json(res, 400, { error: 'expected {"sub": "...", "claims": {...}}' });
      const before = JSON.stringify(claimsConfig());
      if (body.delete) {
        state.accounts.delete(body.sub);
      } else {
        if (body.claims === null || typeof body.claims !== 'object' || Array.isArray(body.claims)) {
          return json(res, 400, { error: 'claims must be an object' });
        }
        state.accounts.set(body.sub, body.claims);
      }
      // A claim name the provider has not seen must be added to its claims configuration.
      if (JSON.stringify(claimsConfig()) !== before) build(issuer);
      return json(res, 200, { sub: body.sub, claims: state.accounts.get(body.sub) ?? null });
    }
    case 'POST /__control/rotate': {
      const alg = body.alg ?? 'RS256';
      if (!['RS256', 'ES256'].includes(alg)) return json(res, 400, { error: 'alg must be RS256 or ES256' });
      const key = newKey(alg);
      state.keys = body.keep_previous === false
        ? [key, ...state.keys.filter((k) => k.alg !== alg)]
        : [key, ...state.keys];
      build(issuer);
      return json(res, 200, { kid: key.kid, kids: state.keys.map((k) => k.kid) });
    }
    case 'POST /__control/faults': {
      const unknown = Object.keys(body).filter((name) => ![...ENDPOINTS.values()].includes(name));
      if (unknown.length) return json(res, 400, { error: `unknown endpoints: ${unknown.join(', ')}` });
      state.faults = body;
      return json(res, 200, { faults: state.faults });
    }
    case 'POST /__control/reset':
      resetState();
      build(issuer);
      return json(res, 200, publicState());
    default:
      return json(res, 404, { error: `no control endpoint ${route}` });
  }
}

function loginForm(uid, details, error) {
  const client = details.params.client_id;
  return `${error ? `<p role="alert">${escape(error)}</p>` : ''}
<p>Signing in to <strong>${escape(client)}</strong> (scope: ${escape(details.params.scope ?? '')}).</p>
<form method="post" action="/interaction/${escape(uid)}/login">
  <label for="login">Account</label>
  <input id="login" name="login" autocomplete="username" autofocus required>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Cancel</button></form>`;
}

async function interaction(req, res, path) {
  const [, , uid, action] = path.split('/');
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (error) {
    return send(res, page('Sign-in expired', `<p>${escape(error.message ?? error)}</p>`, 400));
  }
  if (details.uid !== uid) return send(res, page('Sign-in expired', '<p>This sign-in is not the current one.</p>', 400));

  if (req.method === 'GET' && action === undefined) {
    if (details.prompt.name === 'login') return send(res, page('Sign in', loginForm(uid, details)));
    // Not reached with loadExistingGrant above; kept so a consent prompt can never stall a test.
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
    if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }
  if (req.method === 'POST' && action === 'login') {
    const login = new URLSearchParams(await readBody(req)).get('login') ?? '';
    if (!state.accounts.has(login)) {
      return send(res, page('Sign in', loginForm(uid, details, `Unknown account "${login}".`), 401));
    }
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && action === 'abort') {
    await readBody(req);
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  return send(res, page('Not found', '', 404));
}

async function fault(req, res, endpoint) {
  const configured = state.faults[endpoint];
  if (!configured) return false;
  if (configured.times !== undefined) {
    configured.times -= 1;
    if (configured.times <= 0) delete state.faults[endpoint];
  }
  if (configured.delay_ms) await new Promise((resolve) => { setTimeout(resolve, configured.delay_ms); });
  if (configured.status === undefined && configured.body === undefined) return false;
  await readBody(req);
  res.writeHead(configured.status ?? 200, { 'content-type': configured.content_type ?? 'application/json' });
  res.end(configured.body ?? '');
  return true;
}

const server = createServer(async (req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  const issuer = provider.issuer;
  try {
    if (pathname.startsWith('/__control/')) return await control(req, res, pathname, issuer);
    const endpoint = ENDPOINTS.get(pathname) ?? (pathname.startsWith(`${ROUTES.authorization}/`) ? 'authorization' : pathname);
    state.requests[endpoint] = (state.requests[endpoint] ?? 0) + 1;
    if (await fault(req, res, endpoint)) return undefined;
    if (pathname.startsWith('/interaction/')) return await interaction(req, res, pathname);
    return handle(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) json(res, 500, { error: String(error.message ?? error) });
    else res.end();
    return undefined;
  }
});

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  build(issuer);
  process.stdout.write(`READY ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}

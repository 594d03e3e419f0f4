// The graphql-http audit of a running server, as one JSON line on stdout.
// Usage: node audit.mjs URL [BEARER]
// Every audit request carries only what a client of this server is told to
// send; with BEARER, also `Authorization: Bearer BEARER`.
import { auditServer } from 'graphql-http';

const [url, bearer] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs URL [BEARER]');
  process.exit(2);
}

const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (bearer) headers.set('authorization', `Bearer ${bearer}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const failures = [];
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    let body = null;
    try {
      body = await result.response.text();
    } catch {
      body = null;
    }
    failures.push({
      id: result.id,
      status: result.status,
      name: result.name,
      reason: result.reason,
      httpStatus: result.response.status,
      body: body && body.slice(0, 300),
    });
  }
}
console.log(JSON.stringify({ total: results.length, counts, failures }));

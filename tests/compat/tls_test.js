// werk over TLS driven by the faktory-worker npm package, unchanged: the
// client's tlsOptions (handed to Node's tls.connect) turn TLS on; the test
// CA comes from NODE_EXTRA_CA_CERTS, or from tlsOptions.ca. A client that
// does not trust the CA is refused; a job is pushed and processed.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const faktory = require('faktory-worker');

const port = process.env.WERK_PORT;
const password = process.env.WERK_PASSWORD;
const ca = fs.readFileSync(process.env.WERK_TLS_CA);
// The certificate names 127.0.0.1 as well as localhost; the address avoids
// depending on how localhost resolves.
const url = `tcp+tls://:${encodeURIComponent(password)}@127.0.0.1:${port}`;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what, fn, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function main() {
  // The CA from NODE_EXTRA_CA_CERTS: an empty tlsOptions is enough.
  const client = new faktory.Client({ url, tlsOptions: {} });
  await client.connect();
  const jid = await client.job('Tls', 'over', 'tls').push();
  let info = await client.info();
  assert.equal(info.faktory.queues.default, 1);

  // The CA given explicitly.
  const explicit = new faktory.Client({ url, tlsOptions: { ca: [ca] } });
  info = await explicit.info();
  assert.equal(info.faktory.queues.default, 1);
  await explicit.close();

  // The clients below fail on purpose; their pools report every attempt
  // through console.error, which collects them meanwhile.
  const noop = () => {};
  const origError = console.error;
  const reported = [];
  console.error = (...args) => reported.push(args.map(String).join(' '));
  try {
    // A client that trusts only an unrelated CA refuses the test server's
    // certificate (its pool retries, then gives up).
    const untrusting = new faktory.Client({
      url,
      tlsOptions: { ca: [fs.readFileSync(process.env.WERK_TLS_OTHER_CA)] },
    });
    await assert.rejects(untrusting.info());
    assert.ok(reported.some((r) => /certificate/.test(r)), `no certificate error in ${reported}`);
    untrusting.close().catch(noop);  // not awaited: its pool may still be retrying
    // A plaintext client gets no greeting over the TLS port.
    const plain = new faktory.Client({
      url: `tcp://:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    });
    await assert.rejects(plain.info());
    plain.close().catch(noop);
  } finally {
    console.error = origError;
  }

  // A worker over TLS processes the job.
  let ran = null;
  const registry = faktory.create();
  registry.register('Tls', async (...args) => {
    ran = args;
  });
  const worker = await registry.work({ url, tlsOptions: { ca: [ca] }, concurrency: 2 });
  await until('the job to run', async () => ran !== null);
  assert.deepEqual(ran, ['over', 'tls']);
  await until('the ACK', async () => {
    info = await client.info();
    return info.faktory.total_processed === 1;
  });
  assert.equal(info.faktory.queues.default, 0);
  await worker.stop();
  await client.close();
  console.log('compat: faktory-worker', require('faktory-worker/package.json').version,
              'over TLS OK (job', jid + ')');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('compat TLS test failed:', err);
    process.exit(1);
  },
);

// werk driven by the faktory-worker npm package, unchanged: password
// handshake, PUSH and PUSHB, a concurrent worker, failures into the retry
// set, scheduled jobs, mutations and INFO.
'use strict';

const assert = require('node:assert/strict');
const faktory = require('faktory-worker');

const port = process.env.WERK_PORT;
const password = process.env.WERK_PASSWORD;
const url = `tcp://:${encodeURIComponent(password)}@127.0.0.1:${port}`;

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
  const client = new faktory.Client({ url });
  await client.connect();

  // The handshake refuses a wrong password (the client's pool retries, then
  // gives up).
  const bad = new faktory.Client({ url: `tcp://:wrong@127.0.0.1:${port}` });
  await assert.rejects(bad.info());
  await bad.close().catch(() => {});

  // Singly and in bulk.
  const seen = new Map();
  const single = await client.job('Add', 1, 2).push();
  assert.equal(typeof single, 'string');
  const bulk = [];
  for (let i = 0; i < 200; i++) bulk.push(client.job('Add', i, i));
  const rejected = await client.pushBulk(bulk);
  assert.deepEqual(rejected, {});
  const badBulk = await client.pushBulk([{ jid: 'short', jobtype: 'Add', args: [] }]);
  assert.equal(badBulk.short.reason, 'jobs must have a reasonable jid parameter');

  let info = await client.info();
  assert.equal(info.faktory.queues.default, 201);

  // A job that fails goes to the retry set.
  const boomJid = await client.job('Boom', 'x').push();
  // A scheduled job runs after its time.
  const scheduled = client.job('Later', 'soon');
  scheduled.at = new Date(Date.now() + 1000);
  const laterJid = await scheduled.push();

  const registry = faktory.create();
  let failedWith = null;
  registry.register('Add', async (a, b) => {
    seen.set(`${a}+${b}`, (seen.get(`${a}+${b}`) || 0) + 1);
    await sleep(1);
  });
  registry.register('Boom', async () => {
    throw new Error('kaboom');
  });
  let laterRanAt = 0;
  registry.register('Later', async () => {
    laterRanAt = Date.now();
  });
  const worker = await registry.work({
    url,
    concurrency: 8,
    queues: ['critical', 'default'],
  });
  worker.on('fail', ({ error }) => {
    failedWith = error && error.message;
  });

  await until('all Add jobs', async () => [...seen.values()].reduce((a, b) => a + b, 0) >= 201);
  await until('the scheduled job', async () => laterRanAt > 0);
  await until('the failure in the retry set', async () => {
    info = await client.info();
    return info.faktory.tasks.Retries.size === 1;
  });
  assert.equal(failedWith, 'kaboom');
  assert.equal(seen.size, 201);  // 0+0 ... 199+199, and 1+2
  for (const [k, n] of seen) assert.equal(n, 1, `job ${k} ran ${n} times`);

  // Nothing left behind, and processed/failed counts add up.
  info = await client.info();
  assert.equal(info.faktory.queues.default, 0);
  assert.equal(info.faktory.total_processed, 203);
  assert.equal(info.faktory.total_failures, 1);

  // Mutations: kill the failed job into the dead set, then requeue it.
  await client.retries.withJids(boomJid).kill();
  info = await client.info();
  assert.equal(info.faktory.tasks.Retries.size, 0);
  assert.equal(info.faktory.tasks.Dead.size, 1);
  await client.dead.ofType('Boom').discard();
  info = await client.info();
  assert.equal(info.faktory.tasks.Dead.size, 0);

  await worker.stop();
  assert.ok(laterJid);
  await client.close();
  console.log('compat: faktory-worker', require('faktory-worker/package.json').version, 'OK');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('compat test failed:', err);
    process.exit(1);
  },
);

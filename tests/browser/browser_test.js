// werk's Web UI in a real browser (Debian's headless Chromium, driven by
// playwright-core): every page renders with the server's data, every
// action changes the server's state (checked over the Faktory protocol
// with the faktory-worker client), Basic authentication is enforced, an
// action without the page's CSRF token is refused, and a client's strings
// show as text. A screenshot of each page goes to $SCREENSHOTS.
'use strict';

const assert = require('node:assert/strict');
const path = require('node:path');
const faktory = require('faktory-worker');
const { chromium } = require('playwright-core');

const port = process.env.WERK_PORT;
const webPort = process.env.WERK_WEB_PORT;
const password = process.env.WERK_PASSWORD;
const shots = process.env.SCREENSHOTS;
const base = `http://127.0.0.1:${webPort}`;
const url = `tcp://:${encodeURIComponent(password)}@127.0.0.1:${port}`;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A bound only to end a hang: the pages show what is durable, published
// within a loop turn or two.
async function until(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function shoot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

// The page's text after loading `p` (reloading until `want` shows).
async function pageShowing(page, p, want) {
  await until(`${p} to show ${want}`, async () => {
    await page.goto(base + p);
    return (await page.textContent('main')).includes(want);
  });
}

async function checkAuth(browser) {
  // (Chromium ends a navigation answered 401 with an error page of its own,
  // so the statuses are read through the context's requests.)
  const anonymous = await browser.newContext();
  const res = await anonymous.request.get(base + '/');
  assert.equal(res.status(), 401, 'the UI asks for the password');
  assert.match(res.headers()['www-authenticate'] || '', /^Basic/);
  const probe = await anonymous.request.get(base + '/health');
  assert.equal(probe.status(), 200, '/health answers without it');
  await assert.rejects((await anonymous.newPage()).goto(base + '/'), /AUTH/,
    'the browser gets no page without the password');
  await anonymous.close();
  const wrong = await browser.newContext({ httpCredentials: { username: 'ops', password: 'nope' } });
  const res2 = await wrong.request.get(base + '/queues');
  assert.equal(res2.status(), 401, 'a wrong password is refused');
  await wrong.close();
}

async function checkDashboard(page, client) {
  await pageShowing(page, '/', 'Dashboard');
  assert.ok(await page.isVisible('canvas#live-chart'), 'the live chart is there');
  assert.ok(await page.isVisible('svg#history'), 'the history is there');
  // The live chart polls /stats: the summary bar follows the server.
  const before = Number((await page.textContent('#sum-enqueued')).replace(/,/g, ''));
  await client.job('Later', 'live').push();
  await until('the summary bar to follow', async () => {
    const now = Number((await page.textContent('#sum-enqueued')).replace(/,/g, ''));
    return now === before + 1;
  });
  await until('the chart to have points', async () =>
    Number(await page.textContent('#live-ticks')) >= 1);
}

// Jobs pushed, worked and some failed: done before the dashboard loads (its
// history by day shows them) and while it is open at the fastest poll (its
// chart shows them). The screenshot is the README's picture.
async function work(client, n, round) {
  for (let i = 0; i < n; i++) await client.job('Report', round, i).push();
  for (;;) {
    const job = await client.fetch('default');
    if (!job) break;
    if (job.jobtype === 'Report' && job.args[1] % 7 === 3) {
      await client.fail(job.jid, new Error('report generator timed out'));
    } else {
      await client.ack(job.jid);
    }
  }
}

async function dashboardAtWork(page, client) {
  await work(client, 40, 0);
  await page.goto(base + '/');
  const history = await page.textContent('table.history');
  assert.ok(!history.includes('nothing processed'), `the history has today: ${history}`);
  await page.locator('#poll-interval').fill('2');
  assert.equal(await page.textContent('#poll-label'), '2 s');
  for (let round = 1; round <= 6; round++) {
    await work(client, 8 + 5 * round, round);
    await sleep(2100);
  }
  await until('the chart to draw', async () => Number(await page.textContent('#live-ticks')) >= 4);
  const processed = Number((await page.textContent('#sum-processed')).replace(/,/g, ''));
  assert.ok(processed >= 100, `the summary bar shows the work (${processed})`);
  await shoot(page, 'dashboard');
}

async function checkQueues(page, client) {
  for (let i = 0; i < 3; i++) await client.job('Add', i).push();
  await client.push({ jobtype: 'Mail', args: [1], queue: 'mailers' });
  await pageShowing(page, '/queues', 'mailers');
  const row = (q) => page.locator(`tr[data-queue="${q}"]`);
  assert.match(await row('mailers').textContent(), /mailers\s*1/);
  await shoot(page, 'queues');

  // Pause: FETCH no longer takes from it; Resume: it does again.
  await row('mailers').locator('button', { hasText: 'Pause' }).click();
  await until('mailers paused', async () => (await row('mailers').textContent()).includes('paused'));
  assert.equal(await client.fetch('mailers'), null, 'a paused queue gives nothing');
  await row('mailers').locator('button', { hasText: 'Resume' }).click();
  await until('mailers active', async () => (await row('mailers').textContent()).includes('active'));
  const job = await client.fetch('mailers');
  assert.ok(job && job.jobtype === 'Mail', 'a resumed queue gives its job');
  await client.ack(job.jid);

  // Clear (confirmed): the queue and its jobs are gone.
  await client.push({ jobtype: 'Mail', args: [2], queue: 'mailers' });
  await until('a job in mailers', async () => ((await client.info()).faktory.queues.mailers || 0) === 1);
  await pageShowing(page, '/queues', 'mailers');
  await row('mailers').locator('button', { hasText: 'Clear' }).click();
  await until('mailers cleared', async () => !((await client.info()).faktory.queues.mailers > 0));
}

async function checkCsrf(context, client) {
  // A POST without the page's token (as a forged form would send) is refused.
  const res = await context.request.post(base + '/queues', {
    form: { queue: 'default', action: 'pause' },
  });
  assert.equal(res.status(), 403, 'an action without the token is refused');
  const fetched = await client.fetch('default');
  assert.ok(fetched, 'default was not paused');
  await client.ack(fetched.jid);
}

// A client's strings in a job (args, error) and in a worker (labels):
// markup that must show as text and never run.
const XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';

async function selectAndAct(page, table, jid, button) {
  await page.locator(`table#${table} tr[data-jid="${jid}"] input[name=key]`).check();
  await page.locator('button', { hasText: new RegExp(`^${button}$`) }).first().click();
  await page.waitForLoadState('load');
}

async function checkSets(page, client) {
  // Three retries (failed once, markup in their args and error), two
  // scheduled jobs, one dead job.
  const retries = [];
  for (let i = 0; i < 3; i++) {
    const jid = await client.push({ jobtype: 'Flaky', args: [XSS, i], queue: 'failing', retry: 5 });
    const job = await client.fetch('failing');
    assert.equal(job.jid, jid);
    const e = new Error(`<b>bad</b> ${XSS} #${i}`);
    e.code = 'FlakyError';
    await client.fail(jid, e);
    retries.push(jid);
  }
  const later = [];
  for (let i = 0; i < 2; i++) {
    const job = client.job('Later', i);
    job.queue = 'later';
    job.at = new Date(Date.now() + 3600 * 1000);
    later.push(await job.push());
  }
  // retry -1: straight to Dead at the first failure (retry 0 would discard it).
  const deadJid = await client.push({ jobtype: 'Doomed', args: [1], queue: 'doomed', retry: -1 });
  await client.fetch('doomed');
  await client.fail(deadJid, new Error('no retries left'));

  await pageShowing(page, '/retries', 'FlakyError');
  const text = await page.textContent('table#retries');
  assert.ok(text.includes('<script>window.__xss=1</script>'), 'the args show as text');
  assert.ok(text.includes('<b>bad</b>'), 'the error shows as text');
  assert.equal(await page.locator('table#retries tbody tr').count(), 3);
  await shoot(page, 'retries');

  // A job in full: its failure and backtrace.
  await page.locator(`tr[data-jid="${retries[0]}"] a`).click();
  await page.waitForSelector('table#failure');
  assert.ok((await page.textContent('table#failure')).includes('FlakyError'));
  assert.ok((await page.textContent('#backtrace')).length > 0, 'the backtrace is there');
  await shoot(page, 'job');

  // Retry now: back in its queue. Kill: to Dead. Delete: gone.
  await page.goto(base + '/retries');
  await selectAndAct(page, 'retries', retries[0], 'Retry now');
  await until('the retried job in its queue', async () => (await client.info()).faktory.queues.failing === 1);
  await page.goto(base + '/retries');
  await selectAndAct(page, 'retries', retries[1], 'Kill');
  await until('the killed job dead', async () => (await client.info()).faktory.sets.dead === 2);
  await page.goto(base + '/retries');
  await selectAndAct(page, 'retries', retries[2], 'Delete');
  await until('the retries empty', async () => (await client.info()).faktory.sets.retries === 0);

  await pageShowing(page, '/scheduled', 'Later');
  assert.equal(await page.locator('table#scheduled tbody tr').count(), 2);
  await shoot(page, 'scheduled');
  await selectAndAct(page, 'scheduled', later[0], 'Retry now');
  await until('the scheduled job enqueued now', async () => (await client.info()).faktory.queues.later === 1);

  await pageShowing(page, '/morgue', 'Doomed');
  await shoot(page, 'dead');
  await selectAndAct(page, 'dead', deadJid, 'Retry now');
  await until('the dead job back in its queue', async () => (await client.info()).faktory.queues.doomed === 1);
  await page.goto(base + '/morgue');
  await page.locator('button', { hasText: /^Delete All$/ }).click();
  await until('the dead set empty', async () => (await client.info()).faktory.sets.dead === 0);

  // A queue's jobs, with the next page.
  for (let i = 0; i < 30; i++) await client.push({ jobtype: 'Paged', args: [i], queue: 'paged' });
  await pageShowing(page, '/queues/paged', 'Paged');
  assert.equal(await page.locator('table#queue-jobs tbody tr').count(), 25);
  await shoot(page, 'queue');
  await page.locator('#next-page').click();
  await page.waitForLoadState('load');
  assert.equal(await page.locator('table#queue-jobs tbody tr').count(), 5);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no markup ran');
}

async function checkBusy(page) {
  // A worker process (HELLO with a wid) holding a job.
  const worker = new faktory.Client({ url, wid: 'browser-wid-1', labels: ['<i>node</i>', 'blue'] });
  await worker.connect();
  assert.equal(await worker.beat(), 'OK');
  await worker.push({ jobtype: 'Busy', args: [XSS], queue: 'busyq' });
  const held = await worker.fetch('busyq');
  await pageShowing(page, '/busy', 'browser-wid-1');
  const row = page.locator('tr[data-wid="browser-wid-1"]');
  assert.ok((await row.textContent()).includes('<i>node</i>'), 'labels show as text');
  assert.ok((await page.textContent('table#in-progress')).includes(held.jid), 'its job in progress');
  await shoot(page, 'busy');
  await row.locator('button', { hasText: 'Quiet' }).click();
  await until('the process told to be quiet', async () => (await worker.beat()) === 'quiet');
  await pageShowing(page, '/busy', 'quiet');
  await page.locator('tr[data-wid="browser-wid-1"] button', { hasText: 'Stop' }).click();
  await until('the process told to stop', async () => (await worker.beat()) === 'terminate');
  await worker.ack(held.jid);
  await worker.close();
}

async function checkServerPages(page) {
  await pageShowing(page, '/cluster', 'primary');
  await shoot(page, 'cluster');
  await pageShowing(page, '/storage', 'durable LSN');
  assert.equal(await page.locator('table#storage tbody tr').count(), 2, 'a row per shard');
  await shoot(page, 'storage');
  await pageShowing(page, '/cron', 'nightly report');
  assert.match(await page.textContent('table#cron'), /Europe\/Berlin/);
  await shoot(page, 'cron');
}

async function main() {
  const client = new faktory.Client({ url });
  await client.connect();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await checkAuth(browser);
    const context = await browser.newContext({
      httpCredentials: { username: 'ops', password },
      viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // Destructive actions ask first (a confirm dialog): the operator says yes.
    const dialogs = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await checkDashboard(page, client);
    await checkQueues(page, client);
    await checkCsrf(context, client);
    await checkServerPages(page);
    await checkSets(page, client);
    await checkBusy(page);
    await dashboardAtWork(page, client);
    assert.deepEqual(errors, [], 'no script errors on any page');
    assert.ok(dialogs.some((m) => m.includes('cannot be undone')), 'Clear asked first');
  } finally {
    await browser.close();
    await client.close();
  }
  console.log('browser: every page rendered, every action checked; screenshots in', shots);
}

main().catch((err) => {
  console.error('browser test failed:', err);
  process.exit(1);
});

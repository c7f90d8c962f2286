// Browser test of Settings → SMTP with playwright-core driving Debian's chromium.
// Run by run.sh, which starts WordPress and the test MTA and sets:
//   SMTPCORE_WP_URL, SMTPCORE_WP_ADMIN_PASS, SMTPCORE_WP_USER_PASS, SMTPCORE_WP_MTA (JSON file),
//   SMTPCORE_WP_WORK (scratch), SMTPCORE_WP_SHOTS (screenshots, results), SMTPCORE_WP_DOCS (docs/).
// Writes browser-results.json ({passed, failed, tests}) into SMTPCORE_WP_SHOTS.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const BASE = process.env.SMTPCORE_WP_URL;
const ADMIN_PASS = process.env.SMTPCORE_WP_ADMIN_PASS;
const USER_PASS = process.env.SMTPCORE_WP_USER_PASS;
const SHOTS = process.env.SMTPCORE_WP_SHOTS;
const DOCS = process.env.SMTPCORE_WP_DOCS;
const WORK = process.env.SMTPCORE_WP_WORK;
const mta = JSON.parse(fs.readFileSync(process.env.SMTPCORE_WP_MTA, 'utf8'));
const ALICE = 'alice@example.test';
const ALICE_PASS = mta.users[ALICE];
const SETTINGS = `${BASE}/wp-admin/options-general.php?page=smtpcore-mailer`;

const results = [];
function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
async function test(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - started });
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - started, error: String(e && e.stack ? e.stack : e) });
    console.log(`FAIL  ${name}\n      ${String(e && e.stack ? e.stack : e).split('\n').join('\n      ')}`);
  }
}

async function browserContext() {
  const profile = fs.mkdtempSync(path.join(WORK, 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // Nothing leaves the machine: only loopback (and inline data) is allowed.
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.hostname === '127.0.0.1' || url.hostname === 'localhost') return route.continue();
    return route.abort();
  });
  context.setDefaultTimeout(20000);
  return context;
}

async function login(context, user, pass) {
  const page = context.pages()[0] || await context.newPage();
  await page.goto(`${BASE}/wp-login.php`);
  await page.fill('#user_login', user);
  await page.fill('#user_pass', pass);
  await Promise.all([page.waitForURL(/wp-admin/), page.click('#wp-submit')]);
  return page;
}

async function shot(page, name, docName) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  // docs/ keeps the committed screenshots; refresh them on purpose with SMTPCORE_WP_UPDATE_DOCS=1.
  if (docName && process.env.SMTPCORE_WP_UPDATE_DOCS === '1') fs.copyFileSync(file, path.join(DOCS, docName));
}

function maildirMessages(localpart, needle) {
  const out = [];
  for (const sub of ['new', 'cur']) {
    const dir = path.join(mta.maildir, localpart, sub);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      const raw = fs.readFileSync(path.join(dir, f), 'utf8');
      if (raw.includes(needle)) out.push(raw);
    }
  }
  return out;
}

async function waitForMail(localpart, needle, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const found = maildirMessages(localpart, needle);
    if (found.length) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no message with ${needle} for ${localpart}`);
}

async function saveSettings(page) {
  await Promise.all([page.waitForURL(/settings-updated=true/), page.click('#submit')]);
  assert(await page.locator('#setting-error-settings_updated').isVisible(), '"Settings saved." is shown');
}

const t0 = Date.now();
const admin = await browserContext();
let page;

await test('admin logs in', async () => {
  page = await login(admin, 'admin', ADMIN_PASS);
  assert((await page.title()).includes('Dashboard'), 'lands on the dashboard');
});

await test('Settings → SMTP is in the menu and a provider preset fills host, port and encryption', async () => {
  await page.goto(`${BASE}/wp-admin/`);
  await page.hover('#menu-settings > a');
  await Promise.all([page.waitForURL(/page=smtpcore-mailer/), page.click('#menu-settings a[href="options-general.php?page=smtpcore-mailer"]')]);
  await page.selectOption('#smtpcore-preset', 'yahoo');
  assert(await page.inputValue('#smtpcore-host') === 'smtp.mail.yahoo.com', 'host filled from the preset');
  assert(await page.inputValue('#smtpcore-port') === '465', 'port filled from the preset');
  assert(await page.inputValue('#smtpcore-security') === 'tls', 'security filled from the preset');
  assert((await page.textContent('#smtpcore-preset-hint')).includes('app password'), 'the user name hint is shown');
  await page.reload(); // not saved
});

await test('settings are saved and the password is never printed back', async () => {
  await page.goto(SETTINGS);
  await page.selectOption('#smtpcore-preset', '');
  await page.fill('#smtpcore-host', '127.0.0.1');
  await page.fill('#smtpcore-port', String(mta.ports.submission));
  await page.selectOption('#smtpcore-security', 'starttls');
  await page.fill('#smtpcore-ca_file', mta.ca_file);
  await page.check('#smtpcore-auth');
  await page.fill('#smtpcore-username', ALICE);
  await page.fill('#smtpcore-password', ALICE_PASS);
  await page.fill('#smtpcore-from_email', ALICE);
  await page.fill('#smtpcore-from_name', 'smtpcore test site');
  await page.fill('#smtpcore-connect_timeout', '10');
  await page.fill('#smtpcore-timeout', '30');
  await saveSettings(page);
  const html = await page.content();
  assert(!html.includes(ALICE_PASS), 'the password is not in the page');
  assert(await page.inputValue('#smtpcore-password') === '', 'the password field is empty');
  assert((await page.getAttribute('#smtpcore-password', 'placeholder')).includes('saved'), 'the field says a password is saved');
  assert(await page.inputValue('#smtpcore-host') === '127.0.0.1', 'host kept');
  const overview = await page.textContent('.smtpcore-overview');
  assert(overview.includes(`through smtpcore to 127.0.0.1, port ${mta.ports.submission}`), `overview: ${overview}`);
  assert(overview.includes('stored encrypted'), 'the overview says the password is stored encrypted');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'settings', 'wp-settings.png');
});

let queueId = '';
await test('a test email is sent and the server reply with the queue id is shown', async () => {
  await page.goto(`${SETTINGS}&tab=test`);
  await page.fill('#smtpcore-test-to', 'bob@example.test');
  await page.check('#smtpcore-test-html');
  await Promise.all([page.waitForURL(/tab=test&sent=1/), page.click('#smtpcore-send-test')]);
  await page.locator('.smtpcore-result-ok').waitFor();
  const reply = (await page.textContent('.smtpcore-reply')).trim();
  queueId = (await page.textContent('.smtpcore-queue-id')).trim();
  assert(/^250 2\.0\.0 .*queued as [0-9A-Za-z]+/.test(reply), `server reply: ${reply}`);
  assert(/^[0-9A-Za-z]+$/.test(queueId) && reply.includes(queueId), `queue id ${queueId}`);
  const [raw] = await waitForMail('bob', `id ${queueId}`);
  assert(raw.includes('Subject: Test email from smtpcore test site'), 'the delivered message is the test email');
  assert(raw.includes('multipart/alternative'), 'HTML with a plain alternative');
  await shot(page, 'test-email-success', 'wp-test-email.png');
});

await test('a wrong password shows 535, the enhanced code, the hint and a redacted transcript', async () => {
  await page.goto(SETTINGS);
  await page.fill('#smtpcore-password', 'wrong password 123');
  await saveSettings(page);
  await page.goto(`${SETTINGS}&tab=test`);
  await page.fill('#smtpcore-test-to', 'bob@example.test');
  await Promise.all([page.waitForURL(/tab=test&sent=1/), page.click('#smtpcore-send-test')]);
  await page.locator('.smtpcore-result-failed').waitFor();
  assert((await page.textContent('.smtpcore-code')).trim() === '535', 'reply code 535');
  assert((await page.textContent('.smtpcore-enhanced')).trim() === '5.7.8', 'enhanced code 5.7.8');
  assert((await page.textContent('.smtpcore-category')).trim() === 'auth', 'category auth');
  const hint = (await page.textContent('.smtpcore-hint')).trim();
  assert(hint.length > 30 && /password|user name/i.test(hint), `hint: ${hint}`);
  const transcript = await page.textContent('.smtpcore-transcript pre');
  assert(transcript.includes('AUTH') && transcript.includes('535'), 'the transcript shows the AUTH exchange');
  assert(!transcript.includes('wrong password 123') && !(await page.content()).includes('wrong password 123'), 'the password is redacted');
  await shot(page, 'test-email-failure', 'wp-test-email-failure.png');
  // Back to the right password.
  await page.goto(SETTINGS);
  await page.fill('#smtpcore-password', ALICE_PASS);
  await saveSettings(page);
});

await test('the email log lists, searches, shows an entry and resends it', async () => {
  await page.goto(`${SETTINGS}&tab=log`);
  const rows = await page.locator('table.wp-list-table tbody tr').count();
  assert(rows >= 2, `log rows: ${rows}`);
  assert(await page.locator('.smtpcore-status-failed').count() >= 1, 'a failed entry is listed');
  await page.fill('#smtpcore-log-search-input', 'Test email from');
  await Promise.all([page.waitForURL(/s=Test\+email/), page.click('#search-submit')]);
  const found = await page.locator('table.wp-list-table tbody tr').count();
  assert(found >= 2, `search results: ${found}`);
  await shot(page, 'email-log', 'wp-email-log.png');
  // Open the successful test email.
  await Promise.all([page.waitForURL(/entry=\d+/), page.locator('tr:has(.smtpcore-status-sent) a.row-title').first().click()]);
  const details = await page.textContent('.smtpcore-entry');
  assert(details.includes('queued as'), 'the entry shows the server reply');
  assert(details.includes(`127.0.0.1:${mta.ports.submission}`), 'the entry shows the server');
  await shot(page, 'email-log-entry');
  const before = maildirMessages('bob', 'Test email from smtpcore test site').length;
  await Promise.all([page.waitForURL(/resent=1/), page.click('#smtpcore-resend')]);
  assert((await page.textContent('.notice-success')).includes('sent again'), 'resent notice');
  const end = Date.now() + 20000;
  while (maildirMessages('bob', 'Test email from smtpcore test site').length <= before && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert(maildirMessages('bob', 'Test email from smtpcore test site').length > before, 'the resent email arrived');
});

await test('log entries are deleted through admin-post.php', async () => {
  await page.goto(`${SETTINGS}&tab=log&status=failed`);
  const before = await page.locator('table.wp-list-table tbody tr').count();
  await page.locator('table.wp-list-table tbody tr input[name="entry[]"]').first().check();
  await Promise.all([page.waitForURL(/deleted=1/), page.click('button[value="smtpcore_mailer_delete_logs"]')]);
  assert((await page.textContent('.notice-success')).includes('1 entry deleted'), 'deleted notice');
  await page.goto(`${SETTINGS}&tab=log&status=failed`);
  const after = await page.locator('table.wp-list-table tbody tr').count();
  assert(after === before - 1 || (before === 1 && (await page.textContent('table.wp-list-table')).includes('No emails')), `rows ${before} -> ${after}`);
});

await test('actions without a valid nonce are refused (403)', async () => {
  const r1 = await admin.request.post(`${BASE}/wp-admin/admin-post.php`, {
    form: { action: 'smtpcore_mailer_send_test', _wpnonce: 'bogus', to: 'bob@example.test' }, maxRedirects: 0,
  });
  assert(r1.status() === 403, `send test without nonce: ${r1.status()}`);
  const r2 = await admin.request.post(`${BASE}/wp-admin/options.php`, {
    form: { option_page: 'smtpcore_mailer', action: 'update', 'smtpcore_mailer_settings[host]': 'evil.example' }, maxRedirects: 0,
  });
  assert(r2.status() === 403, `settings without nonce: ${r2.status()}`);
  await page.goto(SETTINGS);
  assert(await page.inputValue('#smtpcore-host') === '127.0.0.1', 'settings unchanged');
});

await admin.close();

for (const role of ['editor', 'subscriber']) {
  await test(`${role} cannot open the settings, test or log pages, nor run the actions`, async () => {
    const ctx = await browserContext();
    try {
      const p = await login(ctx, role, USER_PASS);
      for (const tab of ['settings', 'test', 'log', 'log&entry=1']) {
        const response = await p.goto(`${SETTINGS}&tab=${tab}`);
        assert(response.status() === 403, `${tab}: status ${response.status()}`);
        const text = await p.textContent('body');
        assert(/not allowed/i.test(text), `${tab}: "not allowed" shown`);
        assert(!text.includes('queued as') && !text.includes('Test email from'), `${tab}: no log content`);
      }
      if (role === 'editor') await shot(p, 'editor-refused');
      for (const action of ['smtpcore_mailer_send_test', 'smtpcore_mailer_resend', 'smtpcore_mailer_delete_logs']) {
        const r = await ctx.request.post(`${BASE}/wp-admin/admin-post.php`, { form: { action, entry: '1' }, maxRedirects: 0 });
        assert(r.status() === 403, `${action}: status ${r.status()}`);
      }
    } finally {
      await ctx.close();
    }
  });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
fs.writeFileSync(path.join(SHOTS, 'browser-results.json'), JSON.stringify({ passed, failed, ms: Date.now() - t0, tests: results }, null, 2));
console.log(`browser: ${passed} passed, ${failed} failed in ${Date.now() - t0} ms`);
process.exit(failed ? 1 : 0);

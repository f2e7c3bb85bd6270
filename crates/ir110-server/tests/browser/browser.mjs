// Drives Debian's chromium headless through the ir110 server UI, as a responder would:
// log in, register a client, record the NDA, open a case, upload report.json, see the findings
// and the APPI deadlines, print the quote page. Screenshots go to SHOTS.
// Usage: node browser.mjs URL USER PASSWORD REPORT_JSON SHOTS_DIR PROFILE_DIR
import { chromium } from 'playwright-core';

const [url, user, password, report, shots, profile] = process.argv.slice(2);
const fail = (msg) => { throw new Error(msg); };

const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15000);
  let n = 0;
  const shot = async (name) => page.screenshot({ path: `${shots}/${String(++n).padStart(2, '0')}-${name}.png`, fullPage: true });

  await page.goto(`${url}/login`);
  await shot('login');
  await page.fill('input[name=name]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${url}/cases`), page.click('button[type=submit]')]);

  await page.goto(`${url}/clients`);
  await page.fill('form[action="/api/clients"] input[name=name]', '株式会社サンプル');
  await Promise.all([page.waitForURL(/\/clients\/\d+$/), page.click('form[action="/api/clients"] button')]);
  (await page.content()).includes('NDA 未締結') || fail('new client should show the NDA as pending');
  await page.fill('input[name=signed_on]', '2026-11-20');
  await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/nda"] button')]);
  (await page.textContent('body')).includes('NDA 締結済') || fail('NDA not recorded');
  await shot('client-nda');

  await page.fill('form[action="/api/cases"] input[name=title]', 'ファイルサーバの暗号化');
  await page.selectOption('select[name=types]', ['ransomware', 'leak']);
  await Promise.all([page.waitForURL(/\/cases\/\d+$/), page.click('form[action="/api/cases"] button')]);
  await shot('case-opened');

  await page.setInputFiles('input[name=report]', report);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/reports"] button')]);
  const findings = await page.textContent('#findings');
  findings.includes('412 件のファイルが暗号化') || fail(`findings missing: ${findings}`);
  await shot('findings');

  await page.fill('input[name=discovered_on]', '2026-11-20');
  await page.check('input[name=unauthorized]');
  await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/appi"] button')]);
  const appi = await page.textContent('#appi-deadlines');
  (appi.includes('2026-11-25') && appi.includes('2027-01-19')) || fail(`APPI deadlines wrong: ${appi}`);
  await shot('appi');

  // A quote from the price list: 2 devices examined, one emergency advice.
  const caseUrl = page.url().split('#')[0];
  await page.click('details:has(form[action$="/quotes"]) summary');
  const quantities = page.locator('form[action$="/quotes"] input[name=quantity]');
  await quantities.nth(1).fill('1');
  await quantities.nth(9).fill('2');
  await Promise.all([page.waitForURL(/\/quotes\/\d+$/), page.click('form[action$="/quotes"] button')]);
  const quote = await page.textContent('main');
  quote.includes('¥715,000') || fail(`quote total wrong: ${quote}`);
  await shot('quote-ja');
  await page.goto(`${page.url()}?lang=en`);
  (await page.textContent('main')).includes('Quotation') || fail('English quote');
  await shot('quote-en');
  await page.goto(caseUrl);

  await page.goto(`${url}/deadlines`);
  (await page.textContent('#deadlines')).includes('株式会社サンプル') || fail('deadline list');
  await shot('deadlines');

  await page.goto(`${url}/lang/en`);
  await page.goto(`${url}/cases`);
  (await page.textContent('h1')).includes('Cases') || fail('English UI');
  await shot('cases-en');
  console.log(`browser: ${n} screenshots in ${shots}`);
} finally {
  await context.close();
}

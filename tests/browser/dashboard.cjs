// Drives the dashboard in headless Chromium (Debian's, through playwright-core), as
// a user would: log in, open the drifted resource, approve the plan, and watch it
// execute without reloading the page (only the WebSocket can bring the change).
// Run by tests/dashboard.rs, which passes everything in the environment.
"use strict";
const path = require("path");
const { chromium } = require(path.join(process.env.PLAYWRIGHT_DIR, "playwright-core"));

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const [url, user, password, scan, plan, resource, shots] =
  ["DASHBOARD_URL", "DASHBOARD_USER", "DASHBOARD_PASSWORD", "DASHBOARD_SCAN", "DASHBOARD_PLAN", "DASHBOARD_RESOURCE", "SCREENSHOT_DIR"].map(env);

function step(text) {
  console.log(`step: ${text}`);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  // Refused requests (the first visit's 401, a wrong password) are the page's
  // business; a script error is not.
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) problems.push(`console: ${message.text()}`);
  });
  let loads = 0;
  page.on("load", () => { loads += 1; });
  try {
    await page.goto(url);
    step("log in");
    await page.fill("#username", user);
    await page.fill("#password", "not the password");
    await page.click("#login");
    await page.waitForFunction(() => document.querySelector("#login-error").textContent.includes("wrong"));
    await page.fill("#password", password);
    await page.click("#login");
    await page.waitForSelector(`#user:has-text("${user}")`);
    await page.waitForSelector("#live.on");
    await page.waitForSelector("#login-form", { state: "hidden" });

    step("the drifted scan");
    const row = page.locator(`tr[data-scan="${scan}"]`);
    await row.locator("td.drift").first().waitFor();
    await page.screenshot({ path: path.join(shots, "1-scans.png") });
    await row.click();
    const item = page.locator(`tr[data-item="${resource}"]`);
    await item.click();
    const change = page.locator("#changes tbody tr").first();
    await change.waitFor();
    const expected = await change.locator("td.expected").textContent();
    const actual = await change.locator("td.actual").textContent();
    console.log(`drift: ${await change.getAttribute("data-path")} expected=${expected} actual=${actual}`);
    await page.screenshot({ path: path.join(shots, "2-drift.png") });

    step("approve the plan");
    await page.click('button[data-view="plans"]');
    const planRow = page.locator(`tr[data-plan="${plan}"]`);
    await planRow.locator('td.phase:has-text("AwaitingApproval")').waitFor();
    await planRow.click();
    await page.locator("#actions tbody tr").first().waitFor();
    await page.click(`button[data-approve="${plan}"]`);
    await planRow.locator('td.approvals:has-text("1 / 2")').waitFor();
    await page.screenshot({ path: path.join(shots, "3-approved.png") });
    console.log("APPROVED");

    step("watch it execute, live");
    const before = loads;
    await planRow.locator('td.phase:has-text("Succeeded")').waitFor({ timeout: 120000 });
    if (loads !== before) throw new Error("the page was reloaded; the update must arrive live");
    await page.locator('#actions td.state:has-text("Succeeded")').first().waitFor();
    await page.screenshot({ path: path.join(shots, "4-executed.png") });
    if (problems.length > 0) throw new Error(problems.join("\n"));
    console.log("DONE");
  } catch (error) {
    await page.screenshot({ path: path.join(shots, "failure.png") }).catch(() => {});
    console.error(error.stack || String(error));
    console.error(problems.join("\n"));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();

// The real Socket.IO Admin UI (the npm package's ui/dist, served by the chat example with
// `--admin-ui`) in headless Chromium, beside two chat clients of the official socket.io-client:
// a wrong password is refused, the right one logs in, the sockets page lists both clients in
// `/chat`, the rooms page shows `lobby`, and one client is disconnected from the UI.
//
//   node admin_browser.mjs <http://host:port> <screenshot.png>
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { io } from "socket.io-client";
import { next } from "./scenario.mjs";

const [url, screenshot] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "sio-chromium-"));

async function chatter() {
  const socket = io(url + "/chat", { transports: ["websocket"], reconnection: false, forceNew: true });
  await next(socket, "system_message");
  return socket;
}

const [alice, bob] = [await chatter(), await chatter()];
const [aliceId, bobId] = [alice.id, bob.id];
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const result = {};
try {
  // The UI's fonts and icons come from CDNs this machine cannot reach: served empty.
  for (const cdn of ["https://fonts.googleapis.com/**", "https://cdn.jsdelivr.net/**"]) {
    await context.route(cdn, (route) => route.fulfill({ status: 200, contentType: "text/css", body: "" }));
  }
  const page = await context.newPage();
  await page.goto(url + "/admin-ui/");
  const login = async (password) => {
    await page.getByLabel("Server URL").fill(url);
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Connect" }).click();
  };
  await login("wrong");
  await page.getByText("Invalid credentials").waitFor({ timeout: 10000 });
  result.wrongPasswordRefused = true;
  await login("changeit");
  await page.getByText("Invalid credentials").waitFor({ state: "detached", timeout: 10000 });

  await page.goto(url + "/admin-ui/#/sockets/");
  for (const id of [aliceId, bobId]) {
    await page.getByText(id).first().waitFor({ timeout: 10000 });
  }
  result.socketsListed = true;
  result.namespaceShown = (await page.getByText("/chat").count()) > 0;

  await page.goto(url + "/admin-ui/#/rooms/");
  await page.getByText("lobby").first().waitFor({ timeout: 10000 });
  result.lobbyShown = true;
  // The page fades in.
  await page.waitForTimeout(1000);
  await page.screenshot({ path: screenshot, fullPage: true });

  // Bob's page, then the button beside its socket's status (an icon: the icon font is not
  // loaded here), which disconnects the socket.
  await page.goto(url + "/admin-ui/#/sockets/");
  await page.getByText(bobId).first().click();
  const disconnect = page.locator("tr", { hasText: "CONNECTED" }).last().locator("button");
  await disconnect.waitFor({ timeout: 10000 });
  const left = new Promise((resolve) => bob.once("disconnect", resolve));
  await disconnect.click();
  result.bobReason = await Promise.race([left, new Promise((r) => setTimeout(() => r("none"), 10000))]);
  result.aliceStillConnected = alice.connected;
} catch (error) {
  result.error = String(error?.message ?? error);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  alice.close();
  bob.close();
}
console.log(JSON.stringify(result));
process.exit(0);

// Two headless Chromium pages open the chat example; one sends a message; both must show it and
// the sender must show the ack. The Socket.IO browser client the page loads from its CDN (the
// MessagePack bundle when the server speaks that parser) is served from the npm-installed
// socket.io-client, so the test runs offline.
//
//   node browser_chat.mjs <http://host:port> <screenshot.png>
//
// Alice then sends a message of 2,000 characters (which a server with permessage-deflate
// compresses both ways), and the result says which WebSocket extensions the server agreed to
// with each page (null where none).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const bundles = join(here, "node_modules/socket.io-client/dist");
const profile = mkdtempSync(join(tmpdir(), "sio-chromium-"));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
  ],
});
try {
  await context.route("https://cdn.socket.io/**", (route) => {
    const bundle = new URL(route.request().url()).pathname.split("/").pop();
    const body = readFileSync(join(bundles, bundle));
    return route.fulfill({ status: 200, contentType: "application/javascript", body });
  });
  const [alice, bob] = [await context.newPage(), await context.newPage()];
  // What the server answered to each page's WebSocket handshake, from the DevTools protocol.
  const extensions = [];
  for (const page of [alice, bob]) {
    const devtools = await context.newCDPSession(page);
    await devtools.send("Network.enable");
    devtools.on("Network.webSocketHandshakeResponseReceived", ({ response }) => {
      const name = Object.keys(response.headers).find((h) => h.toLowerCase() === "sec-websocket-extensions");
      extensions.push(name ? response.headers[name] : null);
    });
  }
  for (const page of [alice, bob]) {
    await page.goto(url);
    await page.locator("#messages li.system", { hasText: "Welcome!" }).waitFor({ timeout: 10000 });
  }
  await alice.fill("#text", "hello from alice");
  await alice.click("button");
  const seen = async (page) => {
    await page.locator("#messages li:not(.system)", { hasText: "hello from alice" }).waitFor({ timeout: 10000 });
    return page.locator("#messages li:not(.system)").allTextContents();
  };
  const [aliceSaw, bobSaw] = [await seen(alice), await seen(bob)];
  await alice.locator("#status", { hasText: "delivered: ok" }).waitFor({ timeout: 10000 });
  const status = await alice.locator("#status").textContent();
  const text = "a long message ".repeat(134).slice(0, 2000);
  await alice.fill("#text", text);
  await alice.click("button");
  const seenLong = async (page) => {
    await page.locator("#messages li:not(.system)").nth(1).waitFor({ timeout: 10000 });
    return (await page.locator("#messages li:not(.system)").allTextContents())[1].includes(text);
  };
  const longArrived = [await seenLong(alice), await seenLong(bob)];
  const result = { aliceSaw, bobSaw, status, longArrived, extensions };
  await alice.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify(result));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

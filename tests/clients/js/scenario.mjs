// What the scenario scripts share: the transports of each mode, waiting for an event with a
// deadline, and running the scenario named on the command line.

/** The transports `socket.io-client` is given in each mode of the tests. */
export const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

/** A promise that fails after `ms`, naming what timed out. */
export function timeout(ms, what) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} timed out`)), ms).unref());
}

/** The arguments of the next `event` of `emitter`, or a failure after `ms`. */
export function next(emitter, event, ms = 5000) {
  return Promise.race([new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), timeout(ms, event)]);
}

/**
 * Resolves with an Engine.IO client `socket` once it is open (and, in mode `upgrade`, upgraded);
 * rejects on its first error or after `ms`.
 */
export function opened(socket, mode, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("open timed out")), ms);
    socket.on("open", () => {
      if (mode !== "upgrade") {
        clearTimeout(timer);
        return resolve(socket);
      }
      socket.on("upgrade", () => {
        clearTimeout(timer);
        resolve(socket);
      });
    });
    socket.on("error", (error) => reject(error));
  });
}

/**
 * Runs `scenarios[name]` and prints its result as one JSON line (or `{error}` and exits 1); the
 * process ends `exitDelayMs` later, so the close packets of the scenario's sockets go out first.
 */
export async function runScenario(scenarios, name, exitDelayMs = 200) {
  const run = scenarios[name];
  if (!run) {
    console.error(`unknown scenario ${name}`);
    process.exit(2);
  }
  try {
    const result = await run();
    console.log(JSON.stringify(result));
    setTimeout(() => process.exit(0), exitDelayMs).unref();
  } catch (error) {
    console.log(JSON.stringify({ error: String(error?.message ?? error) }));
    process.exit(1);
  }
}

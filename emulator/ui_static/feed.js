// The change feed (`/_emulator/stream`, server-sent events) read with fetch rather than
// EventSource: fetch can send the Authorization header an emulator started with --api-key
// asks for. When the stream ends or breaks (the emulator restarted), it reconnects, and
// `onOpen` lets the page list again what it may have missed.


export class Feed {
  constructor({ url, headers, onChange, onOpen, onState }) {
    Object.assign(this, { url, headers, onChange, onOpen, onState });
    this.stopped = true;
    this.controller = null;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop();
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }

  /** Drop the connection and open a new one now (a new key). */
  restart() {
    if (this.controller) this.controller.abort();
    if (this.wake) this.wake();
  }

  pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => { clearTimeout(timer); resolve(); };
    }).finally(() => { this.wake = null; });
  }

  async loop() {
    let delay = 200;
    while (!this.stopped) {
      this.controller = new AbortController();
      let why = "the emulator does not answer";
      try {
        const response = await fetch(this.url, {
          headers: { Accept: "text/event-stream", ...this.headers() },
          signal: this.controller.signal, cache: "no-store",
        });
        if (response.status === 401) {
          why = "unauthorized";
        } else if (!response.ok || !response.body) {
          why = "HTTP " + response.status;
        } else {
          delay = 200;
          this.onState("live");
          // Not awaited: changes read while the page lists are merged into what it lists.
          this.onOpen();
          await this.read(response.body);
          why = "the change stream ended";
        }
      } catch (error) {
        if (this.stopped) return;
      }
      if (this.stopped) return;
      this.onState(why === "unauthorized" ? "unauthorized" : "reconnecting", why);
      await this.pause(why === "unauthorized" ? 3000 : delay);
      delay = Math.min(delay * 2, 2000);
    }
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
        if (!data) continue;
        let change;
        try { change = JSON.parse(data); } catch { continue; }
        this.onChange(change);
      }
    }
  }
}

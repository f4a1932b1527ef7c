// Reads a Server-Sent Events body as the spec parses it (fields per line, events at blank
// lines), for tests that look at what the status handler sends.
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comments: string[];
}

/** Events of `body` as they arrive; ends with the stream. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let current: SseEvent = { comments: [] };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line === "") {
        yield current;
        current = { comments: [] };
        continue;
      }
      if (line.startsWith(":")) {
        current.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, "");
      if (field === "retry") current.retry = Number(value);
      else if (field === "id" || field === "event" || field === "data") current[field] = value;
    }
  }
}

/** The status events of a stream (data parsed), skipping `retry:` and heartbeats. */
export async function* statusEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id: string; status: Record<string, unknown> }> {
  for await (const event of readEvents(body)) {
    if (event.event === "status") yield { id: event.id!, status: JSON.parse(event.data!) as Record<string, unknown> };
  }
}

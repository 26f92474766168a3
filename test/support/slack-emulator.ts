import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One Web API call as the emulator saw it (form fields decoded; JSON-valued fields parsed). */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** The HTTP status the emulator answered with. */
  status: number;
}

export interface EmulatedMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks: unknown[];
  /** Legacy attachments (a coloured bar with blocks inside), when the message has them. */
  attachments?: unknown[];
  /** Every chat.update applied to it, oldest first (the current content is the last one, or the original). */
  edits: { text: string; blocks: unknown[]; attachments?: unknown[] }[];
}

export interface EmulatedFile {
  id: string;
  filename: string;
  title?: string;
  channel?: string;
  thread_ts?: string;
  /** The raw multipart upload body (contains the file content). */
  upload?: string;
  /** The file's bytes: the multipart part the SDK posts to the upload URL, or the raw body (binary files such as PNGs do not survive as a string). */
  content?: Buffer;
  /** The size declared in files.getUploadURLExternal (Slack requires it). */
  length?: number;
  alt_text?: string;
}

type Fault = { status: 429; retryAfter: number } | { status: 500 | 502 | 503 };

/** The file in an upload: the first multipart part with a filename, or the whole body when it is not multipart. */
function uploadedContent(body: Buffer, contentType: string): Buffer {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!contentType.startsWith('multipart/form-data') || !boundary) return body;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const headersEnd = body.indexOf('\r\n\r\n', at);
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (headersEnd === -1 || next === -1) break;
    if (/filename=/.test(body.subarray(at, headersEnd).toString('utf8'))) return body.subarray(headersEnd + 4, next - 2);
    at = next;
  }
  return body;
}

/** One Socket Mode connection: the server side of a minimal RFC 6455 WebSocket (unfragmented frames). */
class SocketConnection {
  private buffer = Buffer.alloc(0);
  closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly onText: (text: string) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  sendText(text: string): void {
    this.frame(0x1, Buffer.from(text, 'utf8'));
  }

  close(): void {
    if (this.closed) return;
    this.frame(0x8, Buffer.from([0x03, 0xe8]));
    this.socket.end();
    this.closed = true;
  }

  private frame(opcode: number, payload: Buffer): void {
    if (this.closed) return;
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (len >= 126 && len < 65536) {
      head[0] = 0x80 | opcode;
      head[1] = 126;
      head.writeUInt16BE(len, 2);
    } else if (len >= 65536) {
      head[0] = 0x80 | opcode;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    this.socket.write(Buffer.concat([head, payload]));
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const opcode = this.buffer[0]! & 0x0f;
      const masked = (this.buffer[1]! & 0x80) !== 0;
      let len = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return;
        len = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return;
        len = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskAt = offset;
      if (masked) offset += 4;
      if (this.buffer.length < offset + len) return;
      const payload = Buffer.from(this.buffer.subarray(offset, offset + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= this.buffer[maskAt + (i % 4)]!;
      this.buffer = this.buffer.subarray(offset + len);
      if (opcode === 0x1) this.onText(payload.toString('utf8'));
      else if (opcode === 0x9) this.frame(0xa, payload);
      else if (opcode === 0x8) this.close();
    }
  }
}

/**
 * A local stand-in for Slack's Web API (on 127.0.0.1 unless told): the methods netdoctor calls, a response_url
 * endpoint, and the files upload URL. Records every call; answers 429 (with Retry-After) or 5xx
 * on demand. Point WebClient's `slackApiUrl` at `apiUrl`.
 */
export class SlackEmulator {
  readonly calls: RecordedCall[] = [];
  readonly messages: EmulatedMessage[] = [];
  readonly ephemerals: { channel: string; user: string; text: string; blocks: unknown[] }[] = [];
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  readonly files: EmulatedFile[] = [];
  /** Socket Mode acks received, by envelope id (with the payload the app sent back, if any). */
  readonly socketAcks: { envelope_id: string; payload?: unknown }[] = [];
  private readonly sockets: SocketConnection[] = [];
  private readonly ackWaiters = new Map<string, () => void>();
  private readonly faults = new Map<string, Fault[]>();
  private seq = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Listens on `host` (default loopback; a node address when pods must reach it). */
  static async start(host = '127.0.0.1'): Promise<SlackEmulator> {
    let emulator: SlackEmulator | undefined; // eslint-disable-line prefer-const -- the handlers read it; it is assigned once the server listens
    const server = createServer((req, res) => void emulator!.handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => emulator!.upgrade(req, socket));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    emulator = new SlackEmulator(server, `http://${host}:${port}`);
    return emulator;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A response_url for a slash-command payload; what is POSTed there lands in `responses`. */
  responseUrl(id = 'r1'): string {
    return `${this.url}/response/${id}`;
  }

  /** The next `times` calls of `method` fail with the given status. */
  failNext(method: string, fault: Fault, times = 1): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...Array<Fault>(times).fill(fault)]);
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Top-level channel messages (not thread replies). */
  parents(channel?: string): EmulatedMessage[] {
    return this.messages.filter((m) => !m.thread_ts && (!channel || m.channel === channel));
  }

  replies(parentTs: string): EmulatedMessage[] {
    return this.messages.filter((m) => m.thread_ts === parentTs);
  }

  /** A message's current content (after its edits). */
  static current(m: EmulatedMessage): { text: string; blocks: unknown[]; attachments?: unknown[] } {
    return m.edits.at(-1) ?? { text: m.text, blocks: m.blocks, ...(m.attachments ? { attachments: m.attachments } : {}) };
  }

  reset(): void {
    for (const list of [this.calls, this.messages, this.ephemerals, this.responses, this.files, this.socketAcks]) list.length = 0;
    this.faults.clear();
  }

  /** Connected Socket Mode clients (after the hello). */
  get socketClients(): number {
    return this.sockets.filter((s) => !s.closed).length;
  }

  /**
   * Delivers a Socket Mode envelope (e.g. `slash_commands` with a command payload) to every
   * connected client; resolves once the app acked it.
   */
  deliver(type: string, payload: Record<string, unknown>, envelopeId = `env-${++this.seq}`, retryAttempt = 0): Promise<void> {
    const acked = new Promise<void>((resolve) => this.ackWaiters.set(envelopeId, resolve));
    const message = JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: retryAttempt, retry_reason: retryAttempt ? 'timeout' : '' });
    for (const s of this.sockets) s.sendText(message);
    return acked;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Socket): void {
    const key = req.headers['sec-websocket-key'];
    if (!String(req.url).startsWith('/socket') || typeof key !== 'string') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const connection = new SocketConnection(socket, (text) => {
      const ack = JSON.parse(text) as { envelope_id: string; payload?: unknown };
      this.socketAcks.push(ack);
      this.ackWaiters.get(ack.envelope_id)?.();
      this.ackWaiters.delete(ack.envelope_id);
    });
    this.sockets.push(connection);
    connection.sendText(JSON.stringify({ type: 'hello', num_connections: this.socketClients, debug_info: { host: 'emulator' }, connection_info: { app_id: 'A0NETDOC' } }));
  }

  private nextTs(): string {
    this.seq += 1;
    return `1700000000.${String(this.seq).padStart(6, '0')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const raw = bytes.toString('utf8');
    const path = new URL(req.url ?? '/', this.url).pathname;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (path.startsWith('/response/')) {
      this.responses.push({ id: path.slice('/response/'.length), body: JSON.parse(raw || '{}') as Record<string, unknown> });
      send(200, { ok: true }); return;
    }
    if (path.startsWith('/upload/')) {
      const file = this.files.find((f) => f.id === path.slice('/upload/'.length));
      if (!file) { send(404, { ok: false }); return; }
      file.upload = raw;
      file.content = uploadedContent(bytes, req.headers['content-type'] ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`OK - ${raw.length}`);
    }
    if (!path.startsWith('/api/')) { send(404, { ok: false, error: 'unknown_path' }); return; }
    const method = path.slice('/api/'.length).replace(/\/$/, '');
    const args = parseArgs(raw, req.headers['content-type'] ?? '');
    const fault = this.faults.get(method)?.shift();
    if (fault) {
      this.calls.push({ method, args, status: fault.status });
      if (fault.status === 429) { send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) }); return; }
      send(fault.status, { ok: false, error: 'internal_error' }); return;
    }
    if (!(req.headers.authorization ?? '').startsWith('Bearer ')) {
      this.calls.push({ method, args, status: 200 });
      send(200, { ok: false, error: 'not_authed' }); return;
    }
    this.calls.push({ method, args, status: 200 });
    send(200, this.answer(method, args));
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const str = (k: string): string => (typeof args[k] === 'string' ? (args[k]) : '');
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://emulated.slack.test/', team: 'Emulated', user: 'netdoctor', team_id: 'T0EMUL', user_id: 'U0BOT', bot_id: 'B0BOT' };
      case 'chat.postMessage': {
        if (!str('channel')) return { ok: false, error: 'channel_not_found' };
        const message: EmulatedMessage = {
          channel: str('channel'),
          ts: this.nextTs(),
          text: str('text'),
          blocks: (args.blocks as unknown[]) ?? [],
          ...(Array.isArray(args.attachments) ? { attachments: args.attachments as unknown[] } : {}),
          edits: [],
          ...(str('thread_ts') ? { thread_ts: str('thread_ts') } : {}),
        };
        this.messages.push(message);
        return { ok: true, channel: message.channel, ts: message.ts, message: { text: message.text } };
      }
      case 'chat.update': {
        const m = this.messages.find((x) => x.channel === str('channel') && x.ts === str('ts'));
        if (!m) return { ok: false, error: 'message_not_found' };
        m.edits.push({ text: str('text'), blocks: (args.blocks as unknown[]) ?? [], ...(Array.isArray(args.attachments) ? { attachments: args.attachments as unknown[] } : {}) });
        return { ok: true, channel: m.channel, ts: m.ts };
      }
      case 'chat.postEphemeral':
        this.ephemerals.push({ channel: str('channel'), user: str('user'), text: str('text'), blocks: (args.blocks as unknown[]) ?? [] });
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.getPermalink':
        return { ok: true, channel: str('channel'), permalink: `https://emulated.slack.test/archives/${str('channel')}/p${str('message_ts').replace('.', '')}` };
      case 'files.getUploadURLExternal': {
        // Slack requires filename and length (bytes) here; the alt text is optional (the SDK sends alt_text).
        const length = Number(str('length') || args.length);
        if (!str('filename') || !Number.isInteger(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
        const id = `F${String(this.files.length + 1).padStart(6, '0')}`;
        this.files.push({ id, filename: str('filename'), length, ...(str('alt_text') ? { alt_text: str('alt_text') } : {}) });
        return { ok: true, upload_url: `${this.url}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const list = (args.files as { id: string; title?: string }[] | undefined) ?? [];
        for (const f of list) {
          const file = this.files.find((x) => x.id === f.id);
          if (!file) return { ok: false, error: 'file_not_found' };
          // Slack completes only files whose bytes were uploaded to the upload URL.
          if (!file.content) return { ok: false, error: 'file_not_found' };
          Object.assign(file, { title: f.title, channel: str('channel_id'), thread_ts: str('thread_ts') || undefined });
        }
        return { ok: true, files: list.map((f) => ({ id: f.id, title: f.title })) };
      }
      case 'apps.connections.open':
        return { ok: true, url: `${this.url.replace('http://', 'ws://')}/socket?ticket=${++this.seq}` };
      case 'users.info':
        return { ok: true, user: { id: str('user'), name: 'someone', is_bot: false } };
      case 'conversations.info':
        return { ok: true, channel: { id: str('channel'), name: 'ops', is_member: true } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'files', 'metadata']);

function parseArgs(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = JSON_FIELDS.has(k) ? safeJson(v) : v;
  }
  delete out.token;
  return out;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

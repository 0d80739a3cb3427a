import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

/** Largest syslog message sent (bytes); longer ones are cut (UDP datagrams stay well under 64 KB). */
export const MAX_MESSAGE_BYTES = 8192;

export function clipBytes(msg: string, max = MAX_MESSAGE_BYTES): Buffer {
  const b = Buffer.from(msg, 'utf8');
  if (b.length <= max) return b;
  // Cut on a character boundary.
  let end = max;
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

export interface SyslogTransport {
  send(message: string): Promise<void>;
  close(): Promise<void>;
}

export interface SyslogTarget {
  protocol: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
}

export function parseSyslogUrl(url: string): SyslogTarget {
  const u = new URL(url);
  const protocol = u.protocol.replace(':', '');
  if (protocol !== 'udp' && protocol !== 'tcp' && protocol !== 'tls')
    throw new Error(`syslog URL must be udp://, tcp:// or tls:// (got ${u.protocol})`);
  const port = u.port ? Number(u.port) : protocol === 'tls' ? 6514 : 514;
  return { protocol, host: u.hostname.replace(/^\[|\]$/g, ''), port };
}

/** RFC 5426: one message per datagram. */
export class UdpTransport implements SyslogTransport {
  private readonly socket: UdpSocket;
  constructor(private readonly t: SyslogTarget) {
    this.socket = createSocket(t.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.unref();
  }
  send(message: string): Promise<void> {
    const b = clipBytes(message);
    return new Promise((resolve, reject) =>
      this.socket.send(b, this.t.port, this.t.host, (err) => (err ? reject(err) : resolve())),
    );
  }
  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

/**
 * RFC 6587 octet counting (`LEN SP MSG`) over TCP, or over TLS as RFC 5425 requires. Connects lazily and
 * reconnects on the next send after an error.
 */
export class StreamTransport implements SyslogTransport {
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  constructor(
    private readonly t: SyslogTarget,
    private readonly tls: ConnectionOptions = {},
    private readonly timeoutMs = 5000,
  ) {}

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const s =
        this.t.protocol === 'tls'
          ? tlsConnect({ host: this.t.host, port: this.t.port, servername: this.t.host, ...this.tls })
          : netConnect({ host: this.t.host, port: this.t.port });
      const timer = setTimeout(() => s.destroy(new Error('syslog connect timeout')), this.timeoutMs);
      s.once(this.t.protocol === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.setKeepAlive(true);
        s.unref();
        this.socket = s;
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      s.on('close', () => {
        if (this.socket === s) this.socket = null;
      });
      s.on('error', () => undefined);
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async send(message: string): Promise<void> {
    const body = clipBytes(message);
    const frame = Buffer.concat([Buffer.from(`${body.length} `), body]);
    const s = await this.connect();
    await new Promise<void>((resolve, reject) => s.write(frame, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((r) => s.end(() => r()));
  }
}

export function syslogTransport(url: string, tls: ConnectionOptions = {}): SyslogTransport {
  const t = parseSyslogUrl(url);
  return t.protocol === 'udp' ? new UdpTransport(t) : new StreamTransport(t, tls);
}

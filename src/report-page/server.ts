import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../domain/run-context';
import { contentSecurityPolicy } from '../render/html/document';
import type { PageLinks, PageRef } from './links';

export interface PageServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  links: PageLinks;
  /** The page's HTML, or undefined when there is nothing (expired from the store, never existed). */
  render: (ref: PageRef) => Promise<string | undefined>;
  clock: () => Date;
  log: Logger;
}

export interface PageServer {
  port: number;
  close(): Promise<void>;
}

const HEADERS = {
  'content-security-policy': contentSecurityPolicy(true),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
};

const NOT_FOUND = 'Not found\n';

/**
 * The read-only report pages: `GET /runs/<runId>?cluster=…&exp=…&sig=…` and
 * `GET /digests/<day>?cluster=…&exp=…&sig=…`. An unsigned, tampered or expired link and a run
 * that is not (or no longer) stored all get the same 404, so the server never says whether a run exists.
 */
export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const { links, render, clock, log } = options;
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { ...HEADERS, 'content-type': type });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(405, 'text/plain; charset=utf-8', 'Method not allowed\n');
      return;
    }
    const ref = links.verify(req.url ?? '/', clock());
    if (!ref) {
      send(404, 'text/plain; charset=utf-8', NOT_FOUND);
      return;
    }
    render(ref).then(
      (html) => (html === undefined ? send(404, 'text/plain; charset=utf-8', NOT_FOUND) : send(200, 'text/html; charset=utf-8', html)),
      (err: unknown) => {
        log.error({ err, page: ref.kind, cluster: ref.cluster }, 'report page failed');
        send(500, 'text/plain; charset=utf-8', 'The page could not be built; try again later.\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

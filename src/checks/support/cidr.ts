import { BlockList, isIP } from 'node:net';

export interface Cidr {
  text: string;
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** A CIDR block as kube-proxy and the apiserver accept it (`10.244.0.0/16`, `fd00::/64`), else undefined. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const version = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { text: text.trim(), address: m[1]!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A set of CIDR blocks an address can be tested against. */
export class CidrSet {
  private readonly list = new BlockList();
  readonly blocks: Cidr[] = [];

  add(text: string | undefined): this {
    const cidr = text ? parseCidr(text) : undefined;
    if (cidr && !this.blocks.some((b) => b.text === cidr.text)) {
      this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
      this.blocks.push(cidr);
    }
    return this;
  }

  has(ip: string): boolean {
    const version = isIP(ip);
    return version !== 0 && this.list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  }
}

// Whether a process still holds a TCP connection, read from /proc as the kernel sees it: this tells
// "the server closed it" apart from "the client has not noticed yet", even for a client that never
// reads (whose socket cannot see the server's FIN behind the unread data).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between the listing and the read
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match !== null) inodes.add(match[1]!);
  }
  return inodes;
}

/** The remote ports of the IPv4 connections process `pid` holds open. */
export function connectedPeerPorts(pid: number): Set<number> {
  const inodes = socketInodes(pid);
  const ports = new Set<number>();
  const rows = readFileSync(`/proc/${pid}/net/tcp`, 'utf8').trim().split('\n').slice(1);
  for (const row of rows) {
    const fields = row.trim().split(/\s+/);
    const remote = fields[2]!;
    const inode = fields[9]!;
    if (inodes.has(inode)) ports.add(parseInt(remote.split(':')[1]!, 16));
  }
  return ports;
}

/** Whether process `pid` still holds the connection whose client end is `clientPort`. */
export function holdsConnectionFrom(pid: number, clientPort: number): boolean {
  return connectedPeerPorts(pid).has(clientPort);
}

// How a launched instance is reached over SSH: its own address on AWS, a local sshd address here.
import { ApplicationFailure } from '@temporalio/common';
import type { Config, SshEndpointMode } from '../../config.ts';

export type SshEndpointResolver = (instance: { instanceId: string; privateIp: string | null; publicIp: string | null; publicDns: string | null }, profilePort: number | null) => { host: string; port: number };

export function createSshEndpointResolver(mode: SshEndpointMode, sshd: Config['ssh']['sshd']): SshEndpointResolver {
  return (instance, profilePort) => {
    if (mode === 'local-sshd') {
      // moto's instances have no SSH: each is mapped to one of the local sshd's loopback addresses.
      let hash = 0;
      for (const char of instance.instanceId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
      return { host: sshd.addresses[hash % sshd.addresses.length]!, port: sshd.port };
    }
    const host = mode === 'private-ip' ? instance.privateIp : mode === 'public-ip' ? instance.publicIp : instance.publicDns;
    if (!host) throw ApplicationFailure.nonRetryable(`Instance ${instance.instanceId} has no ${mode} to reach it over SSH.`, 'NoSshAddress');
    return { host, port: profilePort ?? 22 };
  };
}

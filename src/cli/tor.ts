// `axon tor init|status`: this instance as a Tor onion service (docs/operations.md, "Tor").
import type { Command } from 'commander';
import { loadConfig } from '../server/config.js';
import {
  DEFAULT_SOCKS,
  defaultTorDir,
  onionAddress,
  socksAnswers,
  writeTorConfig,
} from '../server/modules/federation/tor.js';

export function torCommands(program: Command): void {
  const tor = program.command('tor').description("this instance's Tor onion service");

  tor
    .command('init')
    .description(
      'write the torrc lines and the hidden-service folder (mode 0700) for this instance',
    )
    .option(
      '--dir <dir>',
      'hidden-service folder (default AXON_TOR_DIR or $AXON_DATA_DIR/tor/hidden_service)',
    )
    .option('--socks <host:port>', `Tor's SOCKS port (default AXON_TOR_SOCKS or ${DEFAULT_SOCKS})`)
    .action((options: { dir?: string; socks?: string }) => {
      const config = loadConfig();
      const socks = options.socks ?? config.tor.socks ?? DEFAULT_SOCKS;
      if (!/^[^:\s]+:\d{1,5}$/.test(socks)) throw new Error(`--socks ${socks}: must be host:port`);
      const plan = writeTorConfig(options.dir ?? defaultTorDir(config), socks, config);
      console.log(`wrote ${plan.torrc}; hidden-service folder ${plan.dir} (mode 0700)`);
      console.log('');
      console.log('Next:');
      console.log(`  tor -f ${plan.torrc}`);
      console.log('  # once Tor is up it writes the onion address; then run the server with:');
      console.log(`  AXON_TOR_DIR=${plan.dir} AXON_TOR_SOCKS=${socks} \\`);
      console.log(
        `  AXON_PROXY=socks5h://${socks} AXON_PUBLIC_URL=http://$(cat ${plan.dir}/hostname) \\`,
      );
      console.log('  npx axon start');
      console.log('  # and check it with: axon tor status');
    });

  tor
    .command('status')
    .description(
      "the onion address (AXON_TOR_DIR) and whether Tor's SOCKS port (AXON_TOR_SOCKS) answers",
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const dir = config.tor.dir ?? defaultTorDir(config);
      const socks = config.tor.socks ?? DEFAULT_SOCKS;
      const status = { onion_address: onionAddress(dir), socks_ok: await socksAnswers(socks) };
      if (options.json) console.log(JSON.stringify(status, null, 2));
      else {
        console.log(`onion address: ${status.onion_address ?? `none yet (no ${dir}/hostname)`}`);
        console.log(`SOCKS ${socks}: ${status.socks_ok ? 'answers' : 'does not answer'}`);
      }
      if (status.onion_address === null || !status.socks_ok) {
        throw new Error('Tor is not serving this instance yet (see above)');
      }
    });
}

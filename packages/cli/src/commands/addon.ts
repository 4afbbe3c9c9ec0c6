/**
 * `addon:test <package-or-path> [--url URL --password P]`: run the add-on SDK's conformance kit
 * (kensa's successor) against a provider, in-process or over the partner API, printing one
 * ✓/✗ line per check and exiting non-zero when any check fails.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { CommandModule } from './index.js';

interface AddonTestOptions {
  url?: string;
  password?: string;
  plan?: string[];
  options?: Record<string, unknown>;
  json?: boolean;
}

/** Parse `--options` JSON; a mistake is a usage error, not a stack trace. */
function parseOptions(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new InvalidArgumentError('it must be a JSON object, e.g. \'{"port": 0}\'.');
  return v as Record<string, unknown>;
}

/** The add-on provider verbs. */
export const addonCommands: CommandModule = {
  register(program: Command) {
    program
      .command('addon:test')
      .argument(
        '<package-or-path>',
        'provider package name, directory, module file, or manifest .json (with --url)',
      )
      .option('--url <url>', 'test the partner API server at this base URL (…/heroku/resources)')
      .option('--password <password>', 'partner API password (default: the manifest api.password)')
      .option('--plan <plan...>', 'plans to change to (default: every non-default plan)')
      .option('--options <json>', 'provider options for an in-process run, as a JSON object', parseOptions)
      .option('--json', 'print the report as JSON')
      .description('check an add-on provider with the conformance kit')
      .action(async (spec: string, o: AddonTestOptions) => {
        // Loaded here, not at start-up: every other verb would pay for it.
        const { loadConformanceTarget, runConformance } = await import('@slipway/addon-sdk');
        const target = await loadConformanceTarget(spec, {
          ...(o.url ? { url: o.url } : {}),
          ...(o.password ? { password: o.password } : {}),
        });
        const options = o.options;
        const report = await runConformance(target, {
          ...(o.plan ? { plans: o.plan } : {}),
          ...(options ? { options } : {}),
        });
        if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          for (const c of report.checks)
            process.stdout.write(`${c.ok ? '✓' : '✗'} ${c.name}${c.detail ? ` — ${c.detail}` : ''}\n`);
          const bad = report.checks.filter((c) => !c.ok).length;
          process.stdout.write(
            bad
              ? `\n${bad} of ${report.checks.length} checks failed\n`
              : `\nall ${report.checks.length} checks passed\n`,
          );
        }
        if (!report.ok) process.exitCode = 1;
      });
  },
};

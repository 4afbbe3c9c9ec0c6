/**
 * `completion bash|zsh`: a shell completion script made from the program itself (every verb,
 * alias and option), so it never lags behind the commands. Install with
 * `source <(slipway completion bash)` or `slipway completion zsh > "${fpath[1]}/_slipway"`.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { out } from '../api-client.js';
import type { CommandModule } from './index.js';

/** Each verb (and alias) with its options and a one-line description. */
export function completionTable(
  program: Command,
): { name: string; description: string; options: string[] }[] {
  const rows: { name: string; description: string; options: string[] }[] = [];
  for (const c of program.commands) {
    const options = c.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
    const subs = c.commands.map((s) => s.name());
    for (const name of [c.name(), ...c.aliases()])
      rows.push({
        name,
        description: c.description().split('\n')[0] ?? '',
        options: [...subs, ...options, '--help'],
      });
  }
  return rows;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The bash script: verbs first, then the options of the verb given. */
export function bashCompletion(program: Command): string {
  const rows = completionTable(program);
  const cases = rows.map((r) => `    ${quote(r.name)}) opts=${quote(r.options.join(' '))} ;;`).join('\n');
  return `# slipway bash completion: source <(slipway completion bash)
_slipway() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W ${quote(rows.map((r) => r.name).join(' '))} -- "$cur") )
    return
  fi
  local opts=""
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
# Verbs hold colons (apps:create): keep them in one word.
COMP_WORDBREAKS=\${COMP_WORDBREAKS//:}
complete -F _slipway slipway
`;
}

/** The zsh script (`#compdef`): described verbs, then the verb's options. */
export function zshCompletion(program: Command): string {
  const rows = completionTable(program);
  const verbs = rows.map((r) => `    ${quote(`${r.name.replace(/:/g, '\\:')}:${r.description}`)}`).join('\n');
  const cases = rows
    .map((r) => `    ${quote(r.name)}) compadd -- ${r.options.map(quote).join(' ')} ;;`)
    .join('\n');
  return `#compdef slipway
# slipway zsh completion: slipway completion zsh > "\${fpath[1]}/_slipway" (then compinit)
_slipway() {
  if (( CURRENT == 2 )); then
    local -a verbs
    verbs=(
${verbs}
    )
    _describe -t commands 'slipway command' verbs
    return
  fi
  case "\${words[2]}" in
${cases}
  esac
}
compdef _slipway slipway
`;
}

/** The completion verb. */
export const completionCommands: CommandModule = {
  register(program: Command) {
    program
      .command('completion')
      .argument('<shell>', 'bash or zsh', (s: string) => {
        if (s !== 'bash' && s !== 'zsh') throw new InvalidArgumentError('give bash or zsh.');
        return s;
      })
      .description('print a shell completion script (bash: source <(slipway completion bash))')
      .action((shell: 'bash' | 'zsh') => {
        out((shell === 'bash' ? bashCompletion(program) : zshCompletion(program)).trimEnd());
      });
  },
};

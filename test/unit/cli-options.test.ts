// The option table of `vizor run` (src/cli/run-options.ts): every option parses, refuses bad
// values and wrong modes with a one-line message naming the option and the value, and appears in
// the usage text and the README. The --mem bound is what the machine and the hypervisor hold.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MEM_MAX, memorySize } from '../../src/cli/args.ts';
import { hostMemoryFor } from '../../src/cli/hv.ts';
import { optionLabel, parseRunArgs, RUN_OPTIONS, RUN_USAGE, type RunArgs, type RunMode } from '../../src/cli/run-options.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { Memory } from '../../src/machine/memory.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Case {
  /** The texts after the option. */
  value: string[];
  /** What the parsed arguments hold then. */
  gives: Partial<RunArgs>;
  /** The rest of the command line (default: an image, plus --hv or --save-at for the option's first mode). */
  context?: string[];
  /** A refused value and the whole message (after "vizor run: "). */
  bad?: { value: string[]; says: string };
}

const CASES: Record<string, Case> = {
  '--boot-sector': { value: [], gives: { boot: { kind: 'boot-sector' } } },
  '--multiboot': { value: [], gives: { boot: { kind: 'multiboot' } } },
  '--flat': {
    value: ['0x200000'], gives: { boot: { kind: 'flat', address: 0x200000 } },
    bad: { value: ['high'], says: "--flat takes an address such as 0x100000, not 'high'" },
  },
  '--rom': { value: [], gives: { boot: { kind: 'rom' } } },
  '--mem': {
    value: ['16M'], gives: { memoryBytes: 16 << 20 },
    bad: { value: ['1G'], says: "--mem takes a size from 2M to 1008M such as 64M, not '1G'" },
  },
  '--max-instructions': {
    value: ['1_000_000'], gives: { maxInstructions: 1_000_000 },
    bad: { value: ['-5'], says: "--max-instructions takes a positive count such as 1000000, not '-5'" },
  },
  '--cmdline': { value: ['console=ttyS0 quiet'], gives: { cmdline: 'console=ttyS0 quiet' } },
  '--vga': { value: [], gives: { vga: true } },
  '--trace-cpu': { value: ['cpu.ndjson'], gives: { traceCpu: 'cpu.ndjson' } },
  '--gdb': {
    value: ['1234'], gives: { gdbPort: 1234 },
    bad: { value: ['70000'], says: "--gdb takes a TCP port such as 1234, not '70000'" },
  },
  '--trace': { value: ['t.ndjson'], gives: { trace: 't.ndjson' } },
  '--perfetto': { value: ['t.json'], gives: { perfetto: 't.json' } },
  '--trace-kinds': {
    value: ['exit,io'], gives: { traceKinds: ['exit', 'io'] }, context: ['k.bin', '--trace', 't.ndjson'],
    bad: { value: ['exit,nonsense'], says: '--trace-kinds: unknown event kind(s) nonsense' },
  },
  '--hv': { value: [], gives: { hv: true, mode: 'hv' }, context: ['k.bin'] },
  '--cpu': {
    value: ['deprivilege'], gives: { cpu: 'deprivilege' },
    bad: { value: ['kvm'], says: "--cpu takes vtx or deprivilege or bt, not 'kvm'" },
  },
  '--paging': {
    value: ['nested'], gives: { paging: 'nested' },
    bad: { value: ['flat'], says: "--paging takes shadow or nested, not 'flat'" },
  },
  '--vms': {
    value: ['3'], gives: { vms: 3 },
    bad: { value: ['65'], says: "--vms takes a count from 1 to 64, not '65'" },
  },
  '--vm': { value: ['a.bin'], gives: { vmImages: ['a.bin'], images: [] }, context: ['--hv'] },
  '--sched': {
    value: ['credit'], gives: { sched: 'credit' },
    bad: { value: ['fifo'], says: "--sched takes rr or credit, not 'fifo'" },
  },
  '--weight': {
    value: ['1,2,0'], gives: { weights: [1, 2, 1] }, // weight 0 means the least, 1
    bad: { value: ['1,x'], says: "--weight takes numbers from 0 to 65535 separated by commas, not '1,x'" },
  },
  '--cap': {
    value: ['50,0'], gives: { caps: [50, 0] },
    bad: { value: ['101'], says: "--cap takes numbers from 0 to 100 separated by commas, not '101'" },
  },
  '--serial-dir': { value: ['out'], gives: { serialDir: 'out' } },
  '--save-at': {
    value: ['1e5', 's.vzs'], gives: { saveAt: { instructions: 100_000, path: 's.vzs' }, mode: 'snapshot' }, context: ['k.bin'],
    bad: { value: ['soon', 's.vzs'], says: "--save-at takes a positive count such as 1000000, not 'soon'" },
  },
  '--restore': { value: ['s.vzs'], gives: { restore: 's.vzs', mode: 'snapshot', images: [] }, context: [] },
};

/** A command line in `mode` with an image: the option under test goes after it. */
const CONTEXT: Record<RunMode, string[]> = {
  bare: ['k.bin'],
  hv: ['--hv', 'k.bin'],
  snapshot: ['k.bin', '--save-at', '5', 's.vzs'],
};

/** Options that choose the mode themselves: they cannot be used "in the wrong mode". */
const MODE_SWITCHES = new Set(['--hv', '--save-at', '--restore']);

const contextOf = (name: string): string[] => {
  const o = RUN_OPTIONS.find((x) => x.name === name)!;
  return CASES[name]!.context ?? CONTEXT[o.modes[0]!];
};

describe('the vizor run option table', () => {
  it('has a test case for every option and no other', () => {
    expect(Object.keys(CASES).sort()).toEqual(RUN_OPTIONS.map((o) => o.name).sort());
    expect(new Set(RUN_OPTIONS.map((o) => o.name)).size).toBe(RUN_OPTIONS.length);
  });

  it.each(RUN_OPTIONS.map((o) => [o.name]))('%s parses its value into the run arguments', (name) => {
    const c = CASES[name]!;
    const parsed = parseRunArgs([...contextOf(name), name, ...c.value]);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed).toMatchObject(c.gives);
  });

  it.each(RUN_OPTIONS.map((o) => [o.name]))('%s refuses a bad or missing value with one line naming it', (name) => {
    const option = RUN_OPTIONS.find((x) => x.name === name)!;
    const c = CASES[name]!;
    // Every option whose value can be wrong has a bad case here.
    const canRefuse = option.values.some((k) => k.parse('\u0001?') === null);
    expect(c.bad !== undefined, `${name} needs a bad-value case`).toBe(canRefuse);
    if (c.bad) expect(parseRunArgs([...contextOf(name), name, ...c.bad.value])).toBe(c.bad.says);
    if (option.values.length > 0) {
      const missing = parseRunArgs([...contextOf(name), name]);
      expect(missing).toMatch(new RegExp(`^${name} needs ${option.values.map((v) => v.metavar.replace(/[|[\]]/g, '\\$&')).join(' ')}: `));
    }
  });

  it('refuses each option in a mode that does not take it, naming the option', () => {
    let checked = 0;
    for (const option of RUN_OPTIONS) {
      if (MODE_SWITCHES.has(option.name)) continue;
      const c = CASES[option.name]!;
      const needsHv = option.modes.includes('hv') && !option.modes.includes('bare');
      for (const mode of ['bare', 'hv', 'snapshot'] as const) {
        const args = [...CONTEXT[mode], option.name, ...c.value];
        const r = parseRunArgs(args);
        if (needsHv && mode !== 'hv') {
          expect(r, args.join(' ')).toBe(`${option.name} goes only with --hv (add --hv to run under the hypervisor)`);
          checked++;
        } else if (!option.modes.includes(mode)) {
          expect(r, args.join(' ')).toBe(mode === 'hv' ? `${option.name} does not go with --hv` : `${option.name} does not go with --save-at/--restore`);
          checked++;
        } else if (typeof r === 'string') {
          // Accepted in this mode; only a rule between options may still object (--vm beside an image).
          expect(r, args.join(' ')).not.toMatch(/goes only with|does not go with|unknown option/);
        }
      }
    }
    expect(checked).toBeGreaterThan(15);
    // Under --hv, the hypervisor's options are accepted when saving or restoring as well.
    expect(parseRunArgs(['--restore', 's.vzs', '--hv', '--paging', 'shadow'])).toMatchObject({ mode: 'snapshot', hv: true, paging: 'shadow' });
  });

  it('checks the rules between options', () => {
    expect(parseRunArgs([])).toBe('no image given');
    expect(parseRunArgs(['a.bin', 'b.bin'])).toBe("only one image, got 'a.bin' and 'b.bin'");
    expect(parseRunArgs(['k.bin', '--bogus'])).toBe("unknown option '--bogus'");
    expect(parseRunArgs(['k.bin', '--multiboot', '--rom'])).toBe('give only one of --boot-sector, --multiboot, --flat, --rom');
    expect(parseRunArgs(['k.bin', '--trace-kinds', 'exit'])).toBe('--trace-kinds needs --trace or --perfetto');
    expect(parseRunArgs(['k.bin', '--gdb', '1', '--trace-cpu', 'c'])).toBe('--gdb and --trace-cpu cannot be used together');
    expect(parseRunArgs(['--hv', 'k.bin', '--vm', 'b.bin'])).toBe('give either an image with --vms or --vm images, not both');
    expect(parseRunArgs(['--hv', '--vms', '2', '--vm', 'b.bin'])).toBe('--vms goes with one plain image, not with --vm');
    expect(parseRunArgs(['--restore', 's.vzs', 'k.bin'])).toBe("--restore resumes the image inside the snapshot: give no image ('k.bin')");
    // A value that looks like an option is still the value: the table knows each option's arity.
    expect(parseRunArgs(['k.bin', '--cmdline', '--hv'])).toMatchObject({ mode: 'bare', cmdline: '--hv' });
  });

  it('lists every option with its values and help in the usage text, and in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const cliSection = readme.slice(readme.indexOf('## The CLI'), readme.indexOf('\n## ', readme.indexOf('## The CLI') + 1));
    for (const o of RUN_OPTIONS) {
      expect(RUN_USAGE, o.name).toContain(`  ${optionLabel(o)}`);
      for (const line of o.help.split('\n')) expect(RUN_USAGE, o.name).toContain(line);
      expect(cliSection, o.name).toContain(o.name);
    }
    expect(cliSection).toContain(`${MEM_MAX >> 20}M`);
  });
});

describe('the --mem bound', () => {
  it('is the most that the machine and one VM under the hypervisor can both hold', () => {
    expect(memorySize.parse(`${MEM_MAX >> 20}M`)).toBe(MEM_MAX);
    expect(memorySize.parse(`${(MEM_MAX >> 20) + 1}M`)).toBeNull();
    expect(memorySize.parse('1M')).toBeNull();
    expect(memorySize.parse('2M')).toBe(2 << 20);
    expect(memorySize.parse('4097K')).toBeNull(); // whole pages only
    // The machine's memory holds at most 1 GiB; the hypervisor's host is one such memory.
    expect(() => new Memory((1 << 30) + 4096)).toThrow(RangeError);
    expect(hostMemoryFor(1, MEM_MAX)).not.toBeNull();
    expect(hostMemoryFor(1, 1 << 30)).toBeNull();
    expect(hostMemoryFor(2, MEM_MAX)).toBeNull();
  });

  it('a VM of the largest size boots and runs under the hypervisor', () => {
    // mov al, 0x21; out 0xF4, al; hlt: a flat kernel that ends with debug-exit 0x21.
    const image = new Uint8Array([0xb0, 0x21, 0xe6, 0xf4, 0xf4]);
    const hv = new Hypervisor({ hostMemoryBytes: hostMemoryFor(1, MEM_MAX)! });
    try {
      const vm = hv.addVm({ name: 'vm0', image, boot: { kind: 'flat', address: 0x100000 }, memoryBytes: MEM_MAX });
      hv.run();
      expect(vm.end).toEqual({ reason: 'debug-exit', code: 0x21 });
    } finally {
      hv.release();
    }
  });
});

describe('vizor run usage errors from the command line', () => {
  const vizor = (args: string[]) => new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [join(ROOT, 'bin/vizor.mjs'), 'run', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (err as { code?: number }).code ?? -1 : 0, stdout, stderr });
    });
  });

  it('status 2, "vizor run: ..." first; --help lists every option with status 0', async () => {
    const [hvOnly, help] = await Promise.all([vizor(['k.bin', '--paging', 'nested']), vizor(['--help'])]);
    expect(hvOnly.status).toBe(2);
    expect(hvOnly.stderr.split('\n')[0]).toBe('vizor run: --paging goes only with --hv (add --hv to run under the hypervisor)');
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(RUN_USAGE);
  });
});

// The checker's plumbing for runs under the hypervisor, with a stand-in HvRunner (each VM on its
// own bare Machine, all emitting into the check's emitter with their VM number): settings, VMs,
// weights and kernels reach the runner; serial output is told apart per VM from console events;
// a runner that refuses a VM is a failed run in words; without a runner, runs are pending.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { Emitter } from '../../src/trace/emitter.ts';
import { checkLesson, formatReport, loadLesson, memoryFiles, NEEDS_HV, type HvRunner, type HvRunRequest } from '../../src/lessons/index.ts';

const KERNEL = (text: string, code: number) => `bits 32
org 0x100000
mb: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000), mb, mb, end, end, start
start:
    mov esi, msg
.next:
    lodsb
    test al, al
    jz .done
    mov dx, 0x3F8
    out dx, al
    jmp .next
.done:
    mov al, ${code}
    out 0xF4, al
    hlt
msg: db '${text}', 10, 0
end:
`;

const files = memoryFiles({
  '01-two/lesson.md': '---\ntitle: Two VMs\norder: 1\nmachine:\n  memory: 4M\n  maxInstructions: 100000\nhv:\n  paging: nested\n---\nText.\n',
  '01-two/a.asm': KERNEL('from a', 0x21),
  '01-two/b.asm': KERNEL('from b', 0x22),
  '01-two/check.json': JSON.stringify({
    requires: 'hv',
    runs: [
      { name: 'bare', kernel: 'a.asm', expect: { serial: { equals: 'from a\n' }, exit: { reason: 'debug-exit', code: '0x21' } } },
      {
        name: 'two VMs',
        hv: { sched: 'credit' },
        vms: [{ kernel: 'a.asm', weight: 1 }, { kernel: 'b.asm', weight: 3, cap: 50 }],
        expect: {
          exit: [{ vm: 0, reason: 'debug-exit', code: '0x21' }, { vm: 1, reason: 'debug-exit', code: '0x22' }],
          serial: [{ vm: 0, equals: 'from a\n' }, { vm: 1, equals: 'from b\n' }],
          counts: [{ kind: 'io', vm: 1, where: { port: '0xF4', value: '0x22' }, count: 1 }],
        },
      },
    ],
  }),
});

/** Runs the VMs one after another on bare machines, as a hypervisor with a trivial scheduler would. */
function standIn(seen: HvRunRequest[]): HvRunner {
  return (req) => {
    seen.push(req);
    return {
      vms: req.vms.map((vm, i) => {
        const emitter = new Emitter();
        emitter.vm = i;
        emitter.listen({ mask: req.emitter.mask, onEvent: (ev) => { req.emitter.vm = ev.vm; req.emitter.emit(ev.kind, ev as never); } });
        const m = new Machine({ memoryBytes: vm.memoryBytes, emitter });
        m.load(vm.image, vm.boot);
        const r = m.run(req.maxInstructions);
        return r.reason === 'debug-exit' ? { reason: 'debug-exit', code: r.code } : { reason: 'halted' };
      }),
    };
  };
}

describe('runs under the hypervisor', () => {
  const lesson = loadLesson(files, '1');

  it('are pending without a runner, and say so', () => {
    const report = checkLesson(files, lesson);
    expect(report.status).toBe('needs-hv');
    expect(report.runs.map((r) => r.status)).toEqual(['pass', 'needs-hv']);
    expect(formatReport(report)).toContain(`run 'two VMs' (hypervisor: cpu=vtx paging=nested sched=credit, 2 VMs): ${NEEDS_HV}`);
  });

  it('get the settings, kernels and weights, and are checked per VM', () => {
    const seen: HvRunRequest[] = [];
    const report = checkLesson(files, lesson, { hv: standIn(seen) });
    expect(report.runs.flatMap((r) => r.findings.filter((f) => !f.ok).map((f) => f.message))).toEqual([]);
    expect(report.status).toBe('pass');
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.settings).toEqual({ cpu: 'vtx', paging: 'nested', sched: 'credit' });
    expect(req.maxInstructions).toBe(100000);
    expect(req.vms.map((v) => ({ name: v.name, weight: v.weight, cap: v.cap, memoryBytes: v.memoryBytes, boot: v.boot.kind }))).toEqual([
      { name: 'vm0:a.asm', weight: 1, cap: undefined, memoryBytes: 4 * 1048576, boot: 'multiboot' },
      { name: 'vm1:b.asm', weight: 3, cap: 50, memoryBytes: 4 * 1048576, boot: 'multiboot' },
    ]);
    expect(req.vms[1]!.image.length).toBeGreaterThan(32);
  });

  it('fail with the VM named when one VM misbehaves', () => {
    const swapped: HvRunner = (req) => standIn([])({ ...req, vms: [req.vms[1]!, req.vms[0]!] });
    const report = checkLesson(files, lesson, { hv: swapped });
    expect(report.status).toBe('fail');
    const text = formatReport(report);
    expect(text).toContain('VM 0 exit: expected debug-exit with code 0x21, but got debug-exit with code 0x22');
    expect(text).toContain('VM 0 serial: expected line 1 to be "from a", but got "from b"');
  });

  it('fail in words when the hypervisor refuses a VM', () => {
    const refusing: HvRunner = () => {
      throw new Error('a boot-sector image needs the BIOS');
    };
    const report = checkLesson(files, lesson, { hv: refusing });
    expect(report.status).toBe('fail');
    expect(report.runs[1]!.error).toBe('the hypervisor could not run it: a boot-sector image needs the BIOS');
  });
});

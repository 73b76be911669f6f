// Plain words for what the hypervisor does: each exit reason's meaning and a sentence per event,
// for hover text and the legends. A student reads these on a projector, so: short, concrete.
import type { ExitReason } from '../../trace/schema.ts';
import type { VizEvent } from './types.ts';

export const EXIT_MEANING: Record<ExitReason, string> = {
  EXCEPTION_NMI: 'the guest raised an exception the hypervisor intercepts (under shadow paging: a page fault)',
  EXTERNAL_INTERRUPT: 'a device interrupt arrived while the guest ran; the hypervisor takes it first',
  TRIPLE_FAULT: 'the guest faulted while handling a double fault: its virtual machine is dead',
  INTERRUPT_WINDOW: 'the guest can take interrupts again, so a pending one can be injected now',
  HLT: 'the guest has nothing to do and halted; its vCPU sleeps until an interrupt',
  INVLPG: 'the guest flushed one TLB entry; the shadow entry for that page must go too',
  CR_ACCESS: 'the guest touched a control register (CR3 = a new address space)',
  IO_INSTRUCTION: 'the guest used an I/O port; the hypervisor plays the device',
  CPUID: 'the guest asked which CPU it runs on; the hypervisor decides what it sees',
  RDMSR: 'the guest read a model-specific register',
  WRMSR: 'the guest wrote a model-specific register',
  RDTSC: 'the guest read the time-stamp counter; the hypervisor gives virtual time',
  GDTR_IDTR_ACCESS: 'the guest loaded or stored its descriptor-table registers',
  LDTR_TR_ACCESS: 'the guest loaded or stored its LDT or task register',
  DR_ACCESS: 'the guest touched a debug register',
  WBINVD: 'the guest asked to write back and flush the caches',
  INVD: 'the guest asked to flush the caches without writing back',
  EPT_VIOLATION: 'the guest touched guest-physical memory that the nested table does not map yet',
  PREEMPTION_TIMER: 'the VM used up its time slice; the scheduler may switch VMs',
  SENSITIVE_INSTRUCTION: 'a sensitive instruction that does not trap by itself was found and made to exit',
  PAUSE_INSTRUCTION: 'the guest kernel spun in a PAUSE loop for too long (waiting for a lock); the hypervisor lets another VM run instead',
};

const hex = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** "1 true fault", "2 true faults", "1,024 entries": a count and its noun, singular only for exactly one. */
export function count(n: number, singular: string, plural = singular + 's'): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}

/** Just the noun, for markup that styles the number apart: noun(1, 'exit') = 'exit'. */
export function noun(n: number, singular: string, plural = singular + 's'): string {
  return n === 1 ? singular : plural;
}
const who = (vm: number): string => (vm < 0 ? 'the hypervisor' : `vm${vm}`);

/** Decodes the bits of a 32-bit PTE/PDE into words: "frame 0x00123, present, writable, user". */
export function pteWords(v: number): string {
  if ((v & 1) === 0) return 'not present';
  const bits = [`frame ${hex(v & ~0xfff)}`, 'present', v & 2 ? 'writable' : 'read-only', v & 4 ? 'user' : 'supervisor'];
  if (v & 0x20) bits.push('accessed');
  if (v & 0x40) bits.push('dirty');
  if (v & 0x80) bits.push('4 MiB page');
  return bits.join(', ');
}

/** One or two sentences about an event, for hover text. */
export function explainEvent(ev: VizEvent): string {
  const at = `at tick ${ev.tick.toLocaleString('en-US')} (event #${ev.seq})`;
  switch (ev.kind) {
    case 'exit':
      return `${who(ev.vm)} exits: ${ev.reason} — ${EXIT_MEANING[ev.reason]}. Guest EIP ${hex(ev.eip)}; handling costs ${count(ev.cycles, 'modelled cycle')}. ${at}`;
    case 'entry':
      return ev.injectedVector !== undefined
        ? `The hypervisor resumes ${who(ev.vm)} and injects interrupt vector ${ev.injectedVector}${ev.injectedVector === 14 ? ' (a page fault the guest must handle itself)' : ''}. ${at}`
        : `The hypervisor resumes ${who(ev.vm)} at EIP ${hex(ev.eip)}. ${at}`;
    case 'pagefault': {
      const what = ev.errorCode & 2 ? 'write to' : 'read of';
      const base = `${who(ev.vm)}: page fault on a ${what} ${hex(ev.linear)}`;
      switch (ev.outcome) {
        case 'hidden': return `${base}. Hidden fault: the guest's own tables allow it, only the shadow table lacked it; the hypervisor fixed it and the guest never knows. ${at}`;
        case 'injected': return `${base}. True fault: the guest's own page table does not map it, so the hypervisor passes the fault to the guest. ${at}`;
        case 'ept-violation': return `${base}. EPT violation: guest-physical ${hex(ev.physical ?? 0)} has no host frame yet; the hypervisor gives it one. ${at}`;
        default: return `${base}, on bare metal. ${at}`;
      }
    }
    case 'shadow':
      switch (ev.op) {
        case 'fill': return `Shadow fill for ${who(ev.vm)}: page ${hex(ev.linear)} copied from the guest PTE (${pteWords(ev.guestPte)}) into the shadow PTE (${pteWords(ev.shadowPte)}). ${at}`;
        case 'invalidate': return `Shadow invalidate for ${who(ev.vm)}: the shadow entry of page ${hex(ev.linear)} is cleared (the guest ran INVLPG or changed its PTE). ${at}`;
        case 'write-protect': return `Write-protect for ${who(ev.vm)}: guest page-table page ${hex(ev.guestTable ?? ev.linear)} is now read-only, so the hypervisor sees every change the guest makes to it. ${at}`;
        case 'unprotect': return `Unprotect for ${who(ev.vm)}: guest page ${hex(ev.guestTable ?? ev.linear)} is no longer a page table; writes go straight through again. ${at}`;
        case 'flush': return ev.guestTable !== undefined
          ? `Shadow flush for ${who(ev.vm)}: the guest loaded CR3 = ${hex(ev.guestTable)}, an address space with no cached shadow; it starts empty and its entries will fault back in (the least recently used cached one may be dropped to make room). ${at}`
          : `Shadow flush for ${who(ev.vm)}: the guest changed how it pages (CR0/CR4, A20); every shadow table is thrown away and will fault back in. ${at}`;
        case 'resync': return ev.linear === 0 && ev.guestTable !== undefined && ev.shadowPte === 0
          ? `Shadow root cache hit for ${who(ev.vm)}: the guest loaded CR3 = ${hex(ev.guestTable)}, an address space it used recently; the hypervisor kept its shadow (write protection kept it true), so nothing faults back in. ${at}`
          : `Shadow resync for ${who(ev.vm)}: the guest wrote its PTE for ${hex(ev.linear)}; the hypervisor emulated the write and updated the shadow PTE (${pteWords(ev.shadowPte)}). ${at}`;
      }
      break;
    case 'walk':
      return `Walk reference ${ev.step} for ${hex(ev.linear)}: ${ev.dimension} table level ${ev.level}, entry at ${hex(ev.address)} = ${hex(ev.value)} (${pteWords(ev.value)}). ${at}`;
    case 'sched': {
      const to = ev.to < 0 ? 'nobody (idle)' : `vm${ev.to}`;
      const why = { quantum: 'its time slice ended', halt: 'it halted', wake: 'a timer woke it', yield: 'it yielded', exit: 'it shut down', start: 'the run starts' }[ev.reason];
      if (ev.reason === 'wake') return `vm${ev.to} becomes runnable again: ${why}. ${at}`;
      return `The scheduler switches the CPU from ${ev.from < 0 ? 'nobody' : `vm${ev.from}`} to ${to}: ${why}.${ev.credits ? ` Credits now ${ev.credits.join(' / ')}.` : ''} ${at}`;
    }
    case 'console': return `${who(ev.vm)} writes to its ${ev.device} console: ${JSON.stringify(ev.text)}. ${at}`;
    case 'halt': return `${who(ev.vm)} executes HLT at ${hex(ev.eip)}: it waits for an interrupt. ${at}`;
    case 'frame': return `The hypervisor ${ev.op === 'alloc' ? 'gives' : 'takes back'} host frame ${ev.frame} (${hex(ev.frame * 4096)}) ${ev.op === 'alloc' ? 'to' : 'from'} ${ev.owner === 'hypervisor' ? 'itself' : `${who(ev.ownerVm)} (${ev.owner === 'guest' ? 'guest memory' : ev.owner + ' tables'})`}. ${at}`;
    default: return `${who(ev.vm)}: ${ev.kind} event. ${at}`;
  }
  return `${(ev as VizEvent).kind} ${at}`;
}

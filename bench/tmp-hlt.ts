import { PM_PRELUDE, assemble, flat32, makeCpu } from '../test/unit/cpu-harness.ts';
const h = makeCpu();
h.memory.writeBytes(0x10000, assemble(`${PM_PRELUDE}
      mov dword [0x40000], 0
      hlt
      jmp $
`));
flat32(h.cpu, h.memory);
h.cpu.hooks = { beforeInstruction: (c) => { const s = c.getState(); console.log(s.eip.toString(16), s.eflags.toString(16)); return false; } };
console.log(h.cpu.run(40), h.events.map((e) => JSON.stringify(e)));

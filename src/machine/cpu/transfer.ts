// Control transfers that can change CS, by kind (SDM vol. 3, 6.12; vol. 2 JMP, CALL, RET, IRET):
//   interrupt-delivery.ts  interrupts and exceptions through the IVT or IDT (gates, stack switch)
//   far-call.ts            far JMP / CALL: code segments, call gates, task targets
//   far-return.ts          far RET and IRET, to the same or an outer ring, nested-task return
//   transfer-common.ts     what they share: CS loads, stack slots, EFLAGS rules
//   stack-switch.ts        the stack a privilege change switches to (TSS SSn:ESPn, checks)
// Code outside these six files imports them from here (the import path it always used).
export { deliver } from './interrupt-delivery.ts';
export { farCall, farJump } from './far-call.ts';
export { farReturn, iret } from './far-return.ts';
export { eflagsForPush, loadCodeSegment, setEflags } from './transfer-common.ts';
export { loadDataSegment } from './segments.ts';
export { DS } from './state.ts';

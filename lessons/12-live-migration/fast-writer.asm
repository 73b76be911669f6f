; Lesson 12, step 5: the same writer, but a page is dirtied every 7 instructions (224 ns), far
; faster than any link in the lesson sends one, for 100000 passes. Pre-copy cannot converge.
%define DELAY 1
%define PASSES 100000
%include "kernel.asm"

/* cweft_switch_raw(void **save_sp, void *load_sp): System V x86-64.
 * Saves the callee-saved registers, MXCSR and the x87 control word on the current
 * stack, stores rsp in *save_sp, switches to load_sp and restores the same set. */
#if defined(__x86_64__)
        .text
        .globl  cweft_switch_raw
        .hidden cweft_switch_raw
        .type   cweft_switch_raw, @function
cweft_switch_raw:
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .size   cweft_switch_raw, .-cweft_switch_raw

/* First code a new context runs: entry (r12) gets arg (r13); entry never returns. */
        .globl  cweft_trampoline
        .hidden cweft_trampoline
        .type   cweft_trampoline, @function
cweft_trampoline:
        movq    %r13, %rdi
        callq   *%r12
        ud2
        .size   cweft_trampoline, .-cweft_trampoline
#endif
        .section .note.GNU-stack,"",@progbits

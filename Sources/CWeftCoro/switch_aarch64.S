/* cweft_switch_raw(void **save_sp, void *load_sp): AAPCS64.
 * Saves x19-x30, d8-d15 and FPCR in a 176-byte frame, stores sp in *save_sp,
 * switches to load_sp and restores the same set. */
#if defined(__aarch64__)
        .text
        .globl  cweft_switch_raw
        .hidden cweft_switch_raw
        .type   cweft_switch_raw, %function
cweft_switch_raw:
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        add     sp, sp, #176
        ret
        .size   cweft_switch_raw, .-cweft_switch_raw

        .globl  cweft_trampoline
        .hidden cweft_trampoline
        .type   cweft_trampoline, %function
cweft_trampoline:
        mov     x0, x20
        blr     x19
        brk     #0
        .size   cweft_trampoline, .-cweft_trampoline
#endif
        .section .note.GNU-stack,"",%progbits

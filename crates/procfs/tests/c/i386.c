/*
 * A 32-bit program without libc (cc -m32 -nostdlib -static): mmap2 one
 * page, then exit_group(0), both as i386 syscalls (int $0x80), whose
 * numbers differ from x86-64's (arch/x86/entry/syscalls/syscall_32.tbl).
 */
#define NR_MMAP2 192
#define NR_EXIT_GROUP 252
#define PROT_READ_WRITE 3
#define MAP_PRIVATE_ANONYMOUS 0x22

void _start(void)
{
	/* mmap2(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0):
	 * ebp is the sixth argument and the frame pointer, so saved around. */
	__asm__ volatile("push %%ebp\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "int $0x80\n\t"
			 "pop %%ebp"
			 :
			 : "a"(NR_MMAP2), "b"(0), "c"(4096), "d"(PROT_READ_WRITE),
			   "S"(MAP_PRIVATE_ANONYMOUS), "D"(-1)
			 : "memory");
	__asm__ volatile("int $0x80" : : "a"(NR_EXIT_GROUP), "b"(0));
	__builtin_unreachable();
}

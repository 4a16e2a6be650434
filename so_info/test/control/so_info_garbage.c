// SPDX-License-Identifier: GPL-2.0
/*
 * Negative control for the so_info VM test: a module that creates
 * /proc/so_info like the real one but fills it with garbage.  The in-VM
 * check suite must report FAIL for it; the host-side test asserts that it
 * does, which proves the checks can fail.
 *
 *   mode=0 (default)  "abc;xyz\n"   - not numbers at all (suite "control")
 *   mode=1            "150;-7\n"    - numbers, out of range ("control-range")
 *   mode=2            "5;5\n"       - well formed, but never follows the load
 *                                     ("control-static")
 *
 * It keeps .proc_read = seq_read, so it also fails the sendfile/splice check.
 * The subtler controls are mutants of so_info.c itself (*.patch here).
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

static int mode;
module_param(mode, int, 0444);
MODULE_PARM_DESC(mode, "0: garbage text, 1: out-of-range numbers, 2: constant 5;5");

static struct proc_dir_entry *entry;

static int garbage_show(struct seq_file *m, void *v)
{
	switch (mode) {
	case 1:
		seq_puts(m, "150;-7\n");
		break;
	case 2:
		seq_puts(m, "5;5\n");
		break;
	default:
		seq_puts(m, "abc;xyz\n");
		break;
	}
	return 0;
}

static int garbage_open(struct inode *inode, struct file *file)
{
	return single_open(file, garbage_show, NULL);
}

static const struct proc_ops garbage_proc_ops = {
	.proc_open	= garbage_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

static int __init garbage_init(void)
{
	entry = proc_create("so_info", 0444, NULL, &garbage_proc_ops);
	return entry ? 0 : -ENOMEM;
}

static void __exit garbage_exit(void)
{
	proc_remove(entry);
}

module_init(garbage_init);
module_exit(garbage_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("so_info test negative control: /proc/so_info full of garbage");

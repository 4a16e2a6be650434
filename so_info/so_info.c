// SPDX-License-Identifier: GPL-2.0
/*
 * so_info - publish the machine's RAM and CPU usage in /proc/so_info.
 *
 * The entry holds one line, "RAM;CPU\n": two integers 0-100.
 *
 *   RAM% = (totalram - available - bufferram) * 100 / totalram
 *          (si_meminfo() and si_mem_available(), as the original module)
 *   CPU% = busy share of all CPUs' time over the last sampling interval,
 *          busy = user + nice + system + irq + softirq + steal,
 *          idle = idle + iowait (read the way fs/proc/stat.c does on x86 and
 *          every architecture without arch_idle_time(), i.e. all but s390).
 *
 * A delayed work item samples the counters every period_ms (1 s by
 * default) and publishes both figures in one atomic word, so that any
 * number of concurrent readers see the same, stable pair and a read costs
 * nothing but formatting.  The first figure is computed at load time from
 * a short window, so a read right after insmod is already meaningful.
 *
 * A sample in which the summed busy or idle time went backwards keeps the
 * previous figure (see so_info_cpu_percent()), as the node's procfs
 * fallback (Sources/Node/Usage/UsageMonitor.swift) does for /proc/stat.
 *
 * Several of the symbols used (si_mem_available, kcpustat_cpu_fetch,
 * get_cpu_idle_time_us, get_cpu_iowait_time_us) are EXPORT_SYMBOL_GPL,
 * hence the GPL licence.  Requires Linux >= 5.10 (struct proc_ops with
 * proc_read_iter, and seq_read_iter, so that splice and sendfile work).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kernel_stat.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/tick.h>
#include <linux/time64.h>
#include <linux/workqueue.h>

#define SO_INFO_NAME		"so_info"
#define SO_INFO_MODE		0444	/* read-only for everybody */
#define SO_INFO_FIRST_MS	100	/* window of the figure computed at load */
#define SO_INFO_MIN_PERIOD_MS	100
#define SO_INFO_MAX_PERIOD_MS	60000

static unsigned int period_ms = 1000;
module_param(period_ms, uint, 0444);
MODULE_PARM_DESC(period_ms, "CPU sampling interval in milliseconds (100-60000, default 1000)");

/* Cumulative CPU time of all CPUs, in nanoseconds. */
struct so_info_sample {
	u64 busy;
	u64 idle;
};

/*
 * Published figures: (ram << 8) | cpu, both 0..100.  One atomic word, so a
 * reader never sees the RAM of one sample with the CPU of another.
 */
static atomic_t so_info_published = ATOMIC_INIT(0);

/* Previous sample; only touched by init and then by the (non-reentrant) work. */
static struct so_info_sample so_info_prev;

static struct proc_dir_entry *so_info_entry;

static void so_info_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(so_info_work, so_info_work_fn);

/*
 * Same logic as the generic get_idle_time()/get_iowait_time() in
 * fs/proc/stat.c (not exported), which every architecture uses but s390:
 * there arch_idle_time is defined and /proc/stat adds arch_idle_time() to
 * cpustat instead, which this module does not (arch_cpu_idle_time() is not
 * exported either), so on s390 the figure may differ from /proc/stat's.
 */
static u64 so_info_idle_ns(const struct kernel_cpustat *kcs, int cpu)
{
	u64 us = -1ULL;

	if (cpu_online(cpu))
		us = get_cpu_idle_time_us(cpu, NULL);
	if (us == -1ULL)	/* !NO_HZ or CPU offline: cpustat is right */
		return kcs->cpustat[CPUTIME_IDLE];
	return us * NSEC_PER_USEC;
}

static u64 so_info_iowait_ns(const struct kernel_cpustat *kcs, int cpu)
{
	u64 us = -1ULL;

	if (cpu_online(cpu))
		us = get_cpu_iowait_time_us(cpu, NULL);
	if (us == -1ULL)
		return kcs->cpustat[CPUTIME_IOWAIT];
	return us * NSEC_PER_USEC;
}

static void so_info_take_sample(struct so_info_sample *s)
{
	int cpu;

	s->busy = 0;
	s->idle = 0;
	for_each_possible_cpu(cpu) {
		struct kernel_cpustat kcs;
		const u64 *c = kcs.cpustat;

		/* Handles vtime (nohz_full) CPUs, like /proc/stat. */
		kcpustat_cpu_fetch(&kcs, cpu);
		s->busy += c[CPUTIME_USER] + c[CPUTIME_NICE] + c[CPUTIME_SYSTEM] +
			   c[CPUTIME_IRQ] + c[CPUTIME_SOFTIRQ] + c[CPUTIME_STEAL];
		s->idle += so_info_idle_ns(&kcs, cpu) + so_info_iowait_ns(&kcs, cpu);
	}
}

/*
 * Busy share between two samples, rounded; @fallback (the figure published
 * before) if no time elapsed or if either sum went backwards.
 *
 * The sums are not monotonic.  An offline CPU's idle time is read from
 * cpustat, an online one's from the NO_HZ counters, and the two differ: in
 * the test VM (Debian 6.1) cpustat's was ahead by 0.1-1.3 s, so the sum
 * drops when a CPU comes back online.  On 6.1 idle_sleeptime is also read
 * without a seqcount, and a sum of many CPUs' nanoseconds can wrap.
 * Clamping the idle delta to 0 would publish 100 % for such a sample.  Keeping the previous figure instead is what the
 * node's procfs fallback does when /proc/stat goes backwards
 * (CPUTimes.percent returns nil, UsageMonitor keeps its figure), so both
 * sources agree.  The caller still takes @cur as the next baseline.
 */
static unsigned int so_info_cpu_percent(const struct so_info_sample *prev,
					const struct so_info_sample *cur,
					unsigned int fallback)
{
	u64 busy, total;

	if (cur->busy < prev->busy || cur->idle < prev->idle)
		return fallback;
	busy = cur->busy - prev->busy;
	total = busy + (cur->idle - prev->idle);
	if (!total)
		return fallback;
	return (unsigned int)div64_u64(busy * 100 + total / 2, total);
}

static unsigned int so_info_ram_percent(void)
{
	struct sysinfo si;
	long available;
	s64 used;

	si_meminfo(&si);
	available = si_mem_available();
	if (!si.totalram)
		return 0;
	used = (s64)si.totalram - available - (s64)si.bufferram;
	used = clamp_t(s64, used, 0, (s64)si.totalram);
	return (unsigned int)div64_u64((u64)used * 100, si.totalram);
}

static void so_info_publish(unsigned int ram, unsigned int cpu)
{
	ram = min(ram, 100U);
	cpu = min(cpu, 100U);
	atomic_set(&so_info_published, (int)((ram << 8) | cpu));
}

static void so_info_work_fn(struct work_struct *work)
{
	struct so_info_sample now;
	unsigned int old = (unsigned int)atomic_read(&so_info_published);

	so_info_take_sample(&now);
	so_info_publish(so_info_ram_percent(),
			so_info_cpu_percent(&so_info_prev, &now, old & 0xff));
	so_info_prev = now;
	schedule_delayed_work(&so_info_work, msecs_to_jiffies(period_ms));
}

static int so_info_show(struct seq_file *m, void *v)
{
	unsigned int val = (unsigned int)atomic_read(&so_info_published);

	seq_printf(m, "%u;%u\n", (val >> 8) & 0xff, val & 0xff);
	return 0;
}

static int so_info_open(struct inode *inode, struct file *file)
{
	return single_open(file, so_info_show, NULL);
}

static const struct proc_ops so_info_proc_ops = {
	.proc_open	= so_info_open,
	.proc_read_iter	= seq_read_iter,	/* read, splice, sendfile */
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};

static int __init so_info_init(void)
{
	struct so_info_sample first;
	unsigned int asked = period_ms;

	period_ms = clamp(period_ms, (unsigned int)SO_INFO_MIN_PERIOD_MS,
			  (unsigned int)SO_INFO_MAX_PERIOD_MS);
	if (period_ms != asked)
		pr_warn("period_ms=%u is out of range %u-%u, using %u\n", asked,
			SO_INFO_MIN_PERIOD_MS, SO_INFO_MAX_PERIOD_MS, period_ms);

	/* First figure from a short window, so the first read is meaningful. */
	so_info_take_sample(&so_info_prev);
	msleep(SO_INFO_FIRST_MS);
	so_info_take_sample(&first);
	so_info_publish(so_info_ram_percent(),
			so_info_cpu_percent(&so_info_prev, &first, 0));
	so_info_prev = first;

	so_info_entry = proc_create(SO_INFO_NAME, SO_INFO_MODE, NULL,
				    &so_info_proc_ops);
	if (!so_info_entry) {
		pr_err("cannot create /proc/%s\n", SO_INFO_NAME);
		return -ENOMEM;
	}

	schedule_delayed_work(&so_info_work, msecs_to_jiffies(period_ms));
	pr_info("loaded: /proc/%s reports RAM;CPU, sampled every %u ms\n",
		SO_INFO_NAME, period_ms);
	return 0;
}

static void __exit so_info_exit(void)
{
	/* No new readers (proc_remove waits for running ones), then no work. */
	proc_remove(so_info_entry);
	cancel_delayed_work_sync(&so_info_work);
	pr_info("unloaded: /proc/%s removed\n", SO_INFO_NAME);
}

module_init(so_info_init);
module_exit(so_info_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("so_info authors");
MODULE_DESCRIPTION("RAM and CPU usage percentages in /proc/so_info (RAM;CPU)");
/* Same as PACKAGE_VERSION in dkms.conf (test/dkms-test.sh checks they agree). */
MODULE_VERSION("1.0");

/* test_fs.c: the mountinfo parser on real captures (node_exporter, procfs),
 * the filter (pseudo file systems, tmpfs, fstypes, exclude, bind and stacked
 * duplicates, escaped paths), real statvfs against a tmpdir root, and the
 * hung-mount handling with an injected statvfs that blocks for one path. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs.h"
#include "testutil.h"
#include "util.h"

static char *slurp(const char *root, const char *rel, size_t *len)
{
	struct hr_err err;
	char *buf = NULL;

	if (hr_read_file(root, rel, &buf, len, HR_FILE_CAP, &err) < 0) {
		CU_FAIL_FATAL("cannot read fixture");
		return NULL;
	}
	return buf;
}

static const struct fs_mount *find(const struct fs_mounts *m, const char *mp)
{
	size_t i;

	for (i = 0; i < m->count; i++)
		if (strcmp(m->items[i].mountpoint, mp) == 0)
			return &m->items[i];
	return NULL;
}

static int parse_text(const char *text, struct fs_mounts *m)
{
	struct hr_err err;

	fs_mounts_init(m);
	return fs_parse_mountinfo(text, strlen(text), m, &err);
}

#define KUBE_PREFIX "/var/lib/kubelet/plugins/kubernetes.io/vsphere-volume/mounts/[vsanDatastore]"
#define KUBE_SUFFIX "bafb9e5a-8856-7e6c-699c-801844e77a4a/kubernetes-dynamic-pvc-3eba5bba-48a3-11e8-89ab-005056b92113.vmdk"

static void test_parse_node_exporter(void)
{
	struct fs_mounts m;
	struct hr_err err;
	const struct fs_mount *x;
	size_t len;
	char *buf = slurp(fixture("node_exporter/root"), "/proc/1/mountinfo", &len);

	fs_mounts_init(&m);
	CU_ASSERT_EQUAL(fs_parse_mountinfo(buf, len, &m, &err), 0);
	CU_ASSERT_EQUAL(m.count, 32);
	CU_ASSERT_EQUAL(m.skipped, 0);
	x = find(&m, "/");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(x->major, 259);
	CU_ASSERT_EQUAL(x->minor, 2);
	CU_ASSERT(x->root_is_slash);
	CU_ASSERT_STRING_EQUAL(x->fstype, "ext4");
	CU_ASSERT_STRING_EQUAL(x->source, "/dev/dm-2");
	/* Optional fields absent: the "-" follows the options directly. */
	x = find(&m, "/var/lib/containers/storage/overlay");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_FALSE(x->root_is_slash);
	CU_ASSERT_STRING_EQUAL(x->fstype, "xfs");
	CU_ASSERT_STRING_EQUAL(x->source, "/dev/mapper/rhel-root");
	/* \040 and \011 in the mount point are a space and a tab. */
	CU_ASSERT_PTR_NOT_NULL(find(&m, KUBE_PREFIX " " KUBE_SUFFIX));
	CU_ASSERT_PTR_NOT_NULL(find(&m, KUBE_PREFIX "\t" KUBE_SUFFIX));
	x = find(&m, "/proc/sys/fs/binfmt_misc");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(x->fstype, "systemd-1"); /* sic: the capture swaps type and source */
	x = find(&m, "/run/user/1000/gvfs");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(x->fstype, "fuse.gvfsd-fuse");
	CU_ASSERT_EQUAL(x->major, 0);
	CU_ASSERT_EQUAL(x->minor, 81);
	fs_mounts_free(&m);
	free(buf);
}

static void test_parse_procfs(void)
{
	struct fs_mounts m;
	struct hr_err err;
	const struct fs_mount *x;
	size_t len, i, nfs = 0;
	char *buf = slurp(fixture("procfs/root"), "/proc/26231/mountinfo", &len);

	fs_mounts_init(&m);
	CU_ASSERT_EQUAL(fs_parse_mountinfo(buf, len, &m, &err), 0);
	CU_ASSERT_EQUAL(m.count, 8);
	CU_ASSERT_EQUAL(m.skipped, 0);
	/* "1 1 0:5 /  /root": two spaces between fields are one separator. */
	x = find(&m, "/root");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(x->fstype, "rootfs");
	for (i = 0; i < m.count; i++)
		if (strcmp(m.items[i].mountpoint, "/mnt/nfs/test") == 0) {
			nfs++;
			CU_ASSERT_STRING_EQUAL(m.items[i].source, "192.168.1.1:/srv/test");
		}
	CU_ASSERT_EQUAL(nfs, 3);
	x = find(&m, "/");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(x->major, 8);
	CU_ASSERT_EQUAL(x->minor, 1);
	CU_ASSERT_STRING_EQUAL(x->source, "/dev/sda1");

	/* Filtered: rootfs, proc, sysfs out; the three NFS mounts stacked on
	 * one point leave the top one (nfs, 0:44); the xfs subtree bind stays
	 * (its file system is mounted nowhere else). */
	{
		struct fs_filter f = { 0 };

		fs_filter_mounts(&m, &f);
		CU_ASSERT_EQUAL(m.count, 3);
		CU_ASSERT_STRING_EQUAL(m.items[0].mountpoint, "/");
		CU_ASSERT_STRING_EQUAL(m.items[1].mountpoint, "/mnt/nfs/test");
		CU_ASSERT_STRING_EQUAL(m.items[1].fstype, "nfs");
		CU_ASSERT_EQUAL(m.items[1].minor, 44);
		CU_ASSERT_STRING_EQUAL(m.items[2].mountpoint, "/var/lib/containers/storage/overlay");
	}
	fs_mounts_free(&m);
	free(buf);
}

/* The node_exporter table through the filter with several configs. */
static void test_filter_node_exporter(void)
{
	static const char *const tmpfs_type[] = { "tmpfs", NULL };
	static const char *const gvfs_type[] = { "fuse.gvfsd-fuse", NULL };
	static const char *const excl_varlib[] = { "/var/lib/*", NULL };
	static const char *const excl_space[] = { "*Datastore] *", NULL };
	static const struct {
		struct fs_filter f;
		size_t count;
		const char *present[6];
		const char *absent[6];
	} cases[] = {
		/* The capture's autofs line reads "- systemd-1 autofs": its type
		 * field says "systemd-1", which is no pseudo type we know. */
		{ { 0, NULL, NULL }, 5,
		  { "/", "/boot", KUBE_PREFIX " " KUBE_SUFFIX, "/var/lib/containers/storage/overlay",
		    "/proc/sys/fs/binfmt_misc" },
		  { "/proc", "/sys", "/run", "/dev", "/run/user/1000/gvfs", KUBE_PREFIX "\t" KUBE_SUFFIX } },
		{ { 1, NULL, NULL }, 10,
		  { "/run", "/dev/shm", "/run/lock", "/sys/fs/cgroup", "/run/user/1000", "/" },
		  { "/dev", "/sys/fs/pstore", "/sys/fs/cgroup/cpuset" } },
		{ { 0, tmpfs_type, NULL }, 10, { "/run", "/run/user/1000" }, { "/dev" } },
		{ { 0, gvfs_type, NULL }, 6, { "/run/user/1000/gvfs", "/" }, { "/run" } },
		{ { 0, NULL, excl_varlib }, 3, { "/", "/boot" },
		  { KUBE_PREFIX " " KUBE_SUFFIX, "/var/lib/containers/storage/overlay" } },
		/* Excluding one bind mount lets its twin stand in for it. */
		{ { 0, NULL, excl_space }, 5, { KUBE_PREFIX "\t" KUBE_SUFFIX }, { KUBE_PREFIX " " KUBE_SUFFIX } },
	};
	size_t len, i, j;
	char *buf = slurp(fixture("node_exporter/root"), "/proc/1/mountinfo", &len);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fs_mounts m;
		struct hr_err err;

		fs_mounts_init(&m);
		CU_ASSERT_EQUAL(fs_parse_mountinfo(buf, len, &m, &err), 0);
		fs_filter_mounts(&m, &cases[i].f);
		CU_ASSERT_EQUAL(m.count, cases[i].count);
		if (m.count != cases[i].count)
			fprintf(stderr, "case %zu: %zu mounts\n", i, m.count);
		for (j = 0; j < 6 && cases[i].present[j] != NULL; j++)
			CU_ASSERT_PTR_NOT_NULL(find(&m, cases[i].present[j]));
		for (j = 0; j < 6 && cases[i].absent[j] != NULL; j++)
			CU_ASSERT_PTR_NULL(find(&m, cases[i].absent[j]));
		fs_mounts_free(&m);
	}
	free(buf);
}

/* Bind duplicates: root "/" wins, then the shortest mount point; stacked
 * mounts: the last one wins. The rest keeps its order. */
static void test_filter_duplicates(void)
{
	static const char text[] =
		"20 1 8:1 /data /var/lib/data rw - ext4 /dev/sda1 rw\n"
		"21 1 8:1 / /srv/data rw shared:1 - ext4 /dev/sda1 rw\n"
		"22 1 8:1 /data /a rw - ext4 /dev/sda1 rw\n"
		"23 1 8:2 / /long/path/here rw - xfs /dev/sda2 rw\n"
		"24 1 8:2 / /short rw - xfs /dev/sda2 rw\n"
		"25 1 8:2 / /shirt rw - xfs /dev/sda2 rw\n"
		"26 1 8:3 / /mnt rw - ext4 /dev/sda3 rw\n"
		"27 26 8:4 / /mnt rw - ext4 /dev/sda4 rw\n"
		"28 1 0:50 / /home rw - btrfs /dev/sdb rw\n";
	struct fs_filter f = { 0 };
	struct fs_mounts m;

	CU_ASSERT_EQUAL_FATAL(parse_text(text, &m), 0);
	CU_ASSERT_EQUAL(m.count, 9);
	fs_filter_mounts(&m, &f);
	CU_ASSERT_EQUAL_FATAL(m.count, 4);
	CU_ASSERT_STRING_EQUAL(m.items[0].mountpoint, "/srv/data");
	CU_ASSERT_STRING_EQUAL(m.items[1].mountpoint, "/short");
	CU_ASSERT_STRING_EQUAL(m.items[2].mountpoint, "/mnt");
	CU_ASSERT_STRING_EQUAL(m.items[2].source, "/dev/sda4");
	CU_ASSERT_STRING_EQUAL(m.items[3].mountpoint, "/home");
	fs_mounts_free(&m);
}

static void test_parse_escapes_and_garbage(void)
{
	static const char text[] =
		"30 1 8:1 / /mnt/my\\040disk rw - ext4 /dev/disk/by-label/my\\040disk rw\n"
		"31 1 8:2 / /mnt/back\\134slash rw - ext4 /dev/sda2 rw\n"
		"32 1 8:3 / /mnt/new\\012line rw - ext4 /dev/sda3 rw\n"
		"33 1 8:4 / /mnt/not\\x\\04 rw - ext4 /dev/sda4\n"          /* not escapes; no super options */
		"34 1 8:5 / /mnt/nul\\000 rw - ext4 /dev/sda5 rw\n"          /* NUL: skipped */
		"35 1 8:6 / /mnt/nosep rw shared:1 ext4 /dev/sda6 rw\n"     /* no "-": skipped */
		"x6 1 8:7 / /mnt/badid rw - ext4 /dev/sda7 rw\n"            /* skipped */
		"37 1 8-8 / /mnt/baddev rw - ext4 /dev/sda8 rw\n"           /* skipped */
		"38 1 8:9 / relative rw - ext4 /dev/sda9 rw\n"              /* skipped */
		"39 1 8:10 / /mnt/nosource rw - ext4\n"                     /* skipped */
		"40 1 8:11 / /mnt/cut\n"                                    /* skipped */
		"\n"
		"41 1 8:12 / /mnt/last rw master:3 propagate_from:2 - vfat /dev/sdb1 rw";
	struct fs_mounts m;
	const struct fs_mount *x;

	CU_ASSERT_EQUAL_FATAL(parse_text(text, &m), 0);
	CU_ASSERT_EQUAL(m.count, 5);
	CU_ASSERT_EQUAL(m.skipped, 7);
	CU_ASSERT_EQUAL(m.first_bad, 5);
	x = find(&m, "/mnt/my disk");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(x->source, "/dev/disk/by-label/my disk");
	CU_ASSERT_PTR_NOT_NULL(find(&m, "/mnt/back\\slash"));
	CU_ASSERT_PTR_NOT_NULL(find(&m, "/mnt/new\nline"));
	CU_ASSERT_PTR_NOT_NULL(find(&m, "/mnt/not\\x\\04"));
	x = find(&m, "/mnt/last");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(x->fstype, "vfat");
	fs_mounts_free(&m);

	/* A mount point too long for an instance name is skipped, not cut
	 * (two cut names could collide). */
	{
		char line[600];
		size_t n;

		n = (size_t)snprintf(line, sizeof(line), "50 1 8:1 / /");
		memset(line + n, 'a', 300);
		n += 300;
		snprintf(line + n, sizeof(line) - n, " rw - ext4 /dev/sda1 rw\n");
		CU_ASSERT_EQUAL_FATAL(parse_text(line, &m), 0);
		CU_ASSERT_EQUAL(m.count, 0);
		CU_ASSERT_EQUAL(m.skipped, 1);
		fs_mounts_free(&m);
	}
}

static void test_pseudo(void)
{
	static const char *const pseudo[] = {
		"proc", "sysfs", "cgroup", "cgroup2", "devpts", "devtmpfs", "securityfs",
		"debugfs", "tracefs", "pstore", "bpf", "mqueue", "hugetlbfs", "configfs",
		"fusectl", "autofs", "binfmt_misc", "rpc_pipefs", "nsfs", "efivarfs",
		"ramfs", "squashfs", "overlay", "tmpfs", NULL,
	};
	static const char *const real[] = {
		"ext4", "xfs", "btrfs", "nfs", "nfs4", "zfs", "vfat", "fuse.sshfs", "cifs", NULL,
	};
	size_t i;

	for (i = 0; pseudo[i] != NULL; i++)
		CU_ASSERT(fs_pseudo(pseudo[i]));
	for (i = 0; real[i] != NULL; i++)
		CU_ASSERT_FALSE(fs_pseudo(real[i]));
}

/* Real statvfs: a tmpdir root whose mountinfo lists "/" measures the tmpdir. */
static void test_probe_real_statvfs(void)
{
	static const char mi[] =
		"20 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
		"21 20 0:4 / /proc rw shared:2 - proc proc rw\n"
		"22 20 8:2 / /gone rw shared:3 - ext4 /dev/sda2 rw\n";
	struct hr_recsink rec;
	const struct hr_sample *s;
	const char *root = tmpdir_new("fs");
	double size, used, avail, inodes, iused;

	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/self/mountinfo", mi, strlen(mi)), 0);
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_fs, root, NULL, &rec), 0);
	/* /proc is pseudo; /gone does not exist under the root: no sample. */
	CU_ASSERT_EQUAL(rec.count, 1);
	s = hr_recsink_find(&rec, "fs", "/");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "fstype"), "ext4");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "device"), "/dev/sda1");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "state"), "ok");
	size = sval(s, "size");
	used = sval(s, "used");
	avail = sval(s, "avail");
	CU_ASSERT(size > 0);
	CU_ASSERT(used > 0);
	CU_ASSERT(avail >= 0);
	CU_ASSERT(used + avail <= size);
	CU_ASSERT(used <= size);
	inodes = sval(s, "inodes");
	iused = sval(s, "inodes_used");
	if (!isnan(inodes)) {
		CU_ASSERT(inodes > 0);
		CU_ASSERT(iused >= 0 && iused <= inodes);
	} else {
		CU_ASSERT(isnan(iused));
	}
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* Fallback to /proc/1/mountinfo: the node_exporter root has only that. Of
 * its mounts only "/" exists under the root, so only "/" is measured. */
static void test_probe_node_exporter_root(void)
{
	struct hr_recsink rec;
	const struct hr_sample *s;

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_fs, fixture("node_exporter/root"), NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 1);
	s = hr_recsink_find(&rec, "fs", "/");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "device"), "/dev/dm-2");
	CU_ASSERT(sval(s, "size") > 0);
	hr_recsink_free(&rec);
}

static void test_probe_missing_empty_garbled(void)
{
	static const char garbled[] = "garbage\n20 1 8:1 / / rw - ext4 /dev/sda1 rw\n21 1 8:2 /\n";
	struct hr_recsink rec;
	const char *root = tmpdir_new("fs");

	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_fs, root, NULL, &rec), -1);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/self/mountinfo", "", 0), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_fs, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 0);
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/self/mountinfo", garbled, strlen(garbled)), 0);
	CU_ASSERT_EQUAL(run_probe(&probe_fs, root, NULL, &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 1);
	CU_ASSERT_PTR_NOT_NULL(hr_recsink_find(&rec, "fs", "/"));
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* An injected statvfs: answers at once, except for paths ending in
 * "/mnt/nfs", which block until released, like a stale NFS mount. */
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cond = PTHREAD_COND_INITIALIZER;
static int fake_release, fake_hang_calls, fake_hang_returns, fake_other_calls;

static int fake_statvfs(const char *path, struct statvfs *st)
{
	static const char hang[] = "/mnt/nfs";
	size_t n = strlen(path);

	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = 4096;
	st->f_blocks = 1000;
	st->f_bfree = 400;
	st->f_bavail = 300;
	st->f_files = 100;
	st->f_ffree = 60;
	pthread_mutex_lock(&fake_lock);
	if (n >= sizeof(hang) - 1 && strcmp(path + n - (sizeof(hang) - 1), hang) == 0) {
		fake_hang_calls++;
		while (!fake_release)
			pthread_cond_wait(&fake_cond, &fake_lock);
		fake_hang_returns++;
		pthread_cond_broadcast(&fake_cond);
	} else {
		fake_other_calls++;
		if (strstr(path, "/noinodes") != NULL)
			st->f_files = st->f_ffree = 0;
	}
	pthread_mutex_unlock(&fake_lock);
	return 0;
}

static void fake_reset(void)
{
	pthread_mutex_lock(&fake_lock);
	fake_release = 0;
	fake_hang_calls = fake_hang_returns = fake_other_calls = 0;
	pthread_mutex_unlock(&fake_lock);
}

static int fake_get(int *v)
{
	int r;

	pthread_mutex_lock(&fake_lock);
	r = *v;
	pthread_mutex_unlock(&fake_lock);
	return r;
}

/* Lets the hung call return and waits until it has. */
static void fake_release_all(int returns)
{
	pthread_mutex_lock(&fake_lock);
	fake_release = 1;
	pthread_cond_broadcast(&fake_cond);
	while (fake_hang_returns < returns)
		pthread_cond_wait(&fake_cond, &fake_lock);
	pthread_mutex_unlock(&fake_lock);
}

static const char hang_mountinfo[] =
	"20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
	"21 20 0:50 / /mnt/nfs rw - nfs4 filer:/export rw,hard\n"
	"22 20 8:2 / /data rw - xfs /dev/sda2 rw\n"
	"23 20 0:51 / /noinodes rw - btrfs /dev/sdb rw\n";

static void *hang_setup(const char *root)
{
	struct probe_env env = { .root = root };
	struct hr_errs errs;
	cJSON *cfg = cJSON_Parse("{\"timeout\": 0.2}");
	void *state = NULL;

	hr_errs_init(&errs);
	CU_ASSERT_EQUAL(probe_fs.setup(&env, cfg, "probes.fs", &state, &errs), 0);
	CU_ASSERT_FALSE(hr_errs_any(&errs));
	hr_errs_free(&errs);
	cJSON_Delete(cfg);
	if (state != NULL)
		fs_set_statvfs(state, fake_statvfs);
	return state;
}

static void assert_measured(const struct hr_sample *s)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "state"), "ok");
	ASSERT_VAL(s, "size", 1000 * 4096.0);
	ASSERT_VAL(s, "used", 600 * 4096.0);
	ASSERT_VAL(s, "avail", 300 * 4096.0);
}

static void test_hung_statvfs(void)
{
	const char *root = tmpdir_new("fs");
	struct hr_recsink rec;
	struct hr_err err;
	const struct hr_sample *s;
	void *state;
	int i, recovered = 0;

	fake_reset();
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/self/mountinfo", hang_mountinfo,
					 strlen(hang_mountinfo)), 0);
	state = hang_setup(root);
	CU_ASSERT_PTR_NOT_NULL_FATAL(state);
	hr_recsink_init(&rec);

	/* First read: the others come back, the hung mount is "stuck". */
	CU_ASSERT_EQUAL(probe_fs.read(state, &rec.sink, &err), 0);
	CU_ASSERT_EQUAL(rec.count, 4);
	assert_measured(hr_recsink_find(&rec, "fs", "/"));
	assert_measured(hr_recsink_find(&rec, "fs", "/data"));
	ASSERT_VAL(hr_recsink_find(&rec, "fs", "/data"), "inodes", 100);
	ASSERT_VAL(hr_recsink_find(&rec, "fs", "/data"), "inodes_used", 40);
	/* f_files == 0: no inode values rather than zeros. */
	s = hr_recsink_find(&rec, "fs", "/noinodes");
	assert_measured(s);
	ASSERT_NO_VAL(s, "inodes");
	ASSERT_NO_VAL(s, "inodes_used");
	s = hr_recsink_find(&rec, "fs", "/mnt/nfs");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "state"), "stuck");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "fstype"), "nfs4");
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "device"), "filer:/export");
	CU_ASSERT_EQUAL(s->nvalues, 0);
	CU_ASSERT_EQUAL(fake_get(&fake_hang_calls), 1);
	CU_ASSERT_EQUAL(fake_get(&fake_other_calls), 3);

	/* Second read: still stuck, and no second call piles up behind the first. */
	hr_recsink_clear(&rec);
	CU_ASSERT_EQUAL(probe_fs.read(state, &rec.sink, &err), 0);
	CU_ASSERT_EQUAL(rec.count, 4);
	s = hr_recsink_find(&rec, "fs", "/mnt/nfs");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(s, "state"), "stuck");
	assert_measured(hr_recsink_find(&rec, "fs", "/"));
	CU_ASSERT_EQUAL(fake_get(&fake_hang_calls), 1);
	CU_ASSERT_EQUAL(fake_get(&fake_other_calls), 6);

	/* The server comes back: the mount is measured again. The worker
	 * marks its job done a moment after the call returns, so allow a
	 * few reads for that. */
	fake_release_all(1);
	for (i = 0; i < 500 && !recovered; i++) {
		const struct timespec ms = { 0, 10 * 1000 * 1000 };

		hr_recsink_clear(&rec);
		CU_ASSERT_EQUAL(probe_fs.read(state, &rec.sink, &err), 0);
		s = hr_recsink_find(&rec, "fs", "/mnt/nfs");
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		if (strcmp(hr_sample_get_label(s, "state"), "ok") == 0)
			recovered = 1;
		else
			nanosleep(&ms, NULL);
	}
	CU_ASSERT(recovered);
	assert_measured(s);
	CU_ASSERT_EQUAL(fake_get(&fake_hang_calls), 2);

	probe_fs.teardown(state);
	hr_recsink_free(&rec);
	rm_rf(root);
}

/* Teardown while a statvfs hangs: the worker keeps the job alive and frees
 * it when its call returns (valgrind and ASan check the memory). */
static void test_teardown_while_stuck(void)
{
	const char *root = tmpdir_new("fs");
	const struct timespec settle = { 0, 50 * 1000 * 1000 };
	struct hr_recsink rec;
	struct hr_err err;
	void *state;

	fake_reset();
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/self/mountinfo", hang_mountinfo,
					 strlen(hang_mountinfo)), 0);
	state = hang_setup(root);
	CU_ASSERT_PTR_NOT_NULL_FATAL(state);
	hr_recsink_init(&rec);
	CU_ASSERT_EQUAL(probe_fs.read(state, &rec.sink, &err), 0);
	CU_ASSERT_STRING_EQUAL(hr_sample_get_label(hr_recsink_find(&rec, "fs", "/mnt/nfs"), "state"),
			       "stuck");
	probe_fs.teardown(state);
	fake_release_all(1);
	/* Give the worker its moment to drop the last reference before exit. */
	nanosleep(&settle, NULL);
	hr_recsink_free(&rec);
	rm_rf(root);
}

static void test_config(void)
{
	static const char *const bad[] = {
		"{\"tmpfs\": \"yes\"}",
		"{\"fstypes\": \"nfs\"}",
		"{\"exclude\": [1]}",
		"{\"exclude\": [\"\"]}",
		"{\"timeout\": \"soon\"}",
		"{\"timeout\": 0}",
		"{\"timeout\": -1}",
		"{\"timeouts\": 5}",
		"7",
	};
	static const char mi[] =
		"20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
		"21 20 0:30 / /run rw - tmpfs tmpfs rw\n"
		"22 20 0:31 / /snap/core/1 ro - squashfs /dev/loop0 ro\n";
	struct hr_recsink rec;
	const char *root = tmpdir_new("fs");
	size_t i;

	CU_ASSERT_EQUAL_FATAL(write_file(root, "/proc/self/mountinfo", mi, strlen(mi)), 0);
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/run/x", "", 0), 0);
	CU_ASSERT_EQUAL_FATAL(write_file(root, "/snap/core/1/x", "", 0), 0);
	hr_recsink_init(&rec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(run_probe(&probe_fs, root, bad[i], &rec), -2);
	CU_ASSERT_EQUAL(rec.count, 0);

	/* The good keys change what is measured. */
	CU_ASSERT_EQUAL(run_probe(&probe_fs, root, "{\"interval\": 60, \"timeout\": \"2s\"}", &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 1);
	hr_recsink_clear(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_fs, root, "{\"tmpfs\": true}", &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 2);
	CU_ASSERT_PTR_NOT_NULL(hr_recsink_find(&rec, "fs", "/run"));
	hr_recsink_clear(&rec);
	CU_ASSERT_EQUAL(run_probe(&probe_fs, root, "{\"fstypes\": [\"squashfs\"], \"exclude\": [\"/\"]}",
				  &rec), 0);
	CU_ASSERT_EQUAL(rec.count, 1);
	CU_ASSERT_PTR_NOT_NULL(hr_recsink_find(&rec, "fs", "/snap/core/1"));
	hr_recsink_free(&rec);
	rm_rf(root);
}

static CU_TestInfo tests[] = {
	{ "parse: node_exporter mountinfo", test_parse_node_exporter },
	{ "parse: procfs mountinfo, filtered", test_parse_procfs },
	{ "filter: node_exporter table", test_filter_node_exporter },
	{ "filter: bind and stacked duplicates", test_filter_duplicates },
	{ "parse: escapes and garbage", test_parse_escapes_and_garbage },
	{ "pseudo file systems", test_pseudo },
	{ "probe: teardown while a statvfs hangs", test_teardown_while_stuck },
	{ "probe: real statvfs on a tmpdir root", test_probe_real_statvfs },
	{ "probe: /proc/1/mountinfo fallback", test_probe_node_exporter_root },
	{ "probe: missing, empty, garbled mountinfo", test_probe_missing_empty_garbled },
	{ "probe: hung statvfs is stuck, then recovers", test_hung_statvfs },
	{ "config: errors and keys", test_config },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("fs", tests);
}

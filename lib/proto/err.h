/* err.h - error codes (sysexits-aligned) and the last error message. */
#ifndef NC_ERR_H
#define NC_ERR_H

/* Library functions return 0 or one of these; commands exit with it. */
enum nc_err {
	NC_OK = 0,
	NC_ESECURITY = 1,   /* tampered, forged, replayed; unexplained key change */
	NC_EUSAGE = 64,
	NC_EDATA = 65,      /* malformed input */
	NC_ENOUSER = 67,
	NC_ENOHOST = 68,    /* a domain that serves no relay: permanent */
	NC_EUNAVAIL = 69,   /* relay unreachable, nothing queued */
	NC_ESOFTWARE = 70,  /* internal error */
	NC_EOSERR = 71,     /* out of memory, system call failed */
	NC_ECANTCREAT = 73,
	NC_EIO = 74,
	NC_ETEMP = 75,      /* queued / try again later */
	NC_EPERM = 77,      /* authentication or permission refused */
	NC_ECONFIG = 78
};

/* Record a one-line reason for the error and return code, so callers can
 * write `return nc_fail(NC_EDATA, "armor: bad line length");`. */
int nc_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The reason recorded by the last nc_fail in this thread ("" if none). */
const char *nc_errmsg(void);
void nc_clearerr(void);

#endif

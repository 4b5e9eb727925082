/* version.h - the one version string every command prints with --version
 * ("nc-send (newchat) 0.1.0"), the relay included. */
#ifndef NC_VERSION_H
#define NC_VERSION_H

#define NC_VERSION "0.1.0"

#endif

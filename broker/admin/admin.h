/*
 * The platform team's commands, run as `cbqd migrate` and `cbqd admin`:
 * apply schema migrations, and register teams, accounts, admins and static
 * Capacity Blocks. They talk to Postgres directly with libpq's blocking API;
 * they are not part of the daemon and never run inside `cbqd serve`.
 */
#ifndef CBQ_ADMIN_ADMIN_H
#define CBQ_ADMIN_ADMIN_H

/* `cbqd migrate [--db CONNINFO]` (argv[0] == "migrate"). Returns the exit
 * code: 0 ok, 1 failed (message on stderr), 2 usage. */
int cbqd_migrate_main(int argc, char **argv);

/* `cbqd admin [--db CONNINFO] COMMAND ...` (argv[0] == "admin"). Same exit
 * codes; `ls` commands print aligned tables on stdout. */
int cbqd_admin_main(int argc, char **argv);

#endif

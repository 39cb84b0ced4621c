/*
 * cmd_train.c - `newstag train`: build a model from labeled files.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "train_mail.h"

#define MAX_MAIL_FOLDERS 256
enum { OPT_FROM_MAIL = 0x100, OPT_DEV_FROM_MAIL };

static void help(void)
{
    printf(
"usage: newstag train -o MODEL [--dev FILE]... [--seed N] [--epochs N]\n"
"                     [--hidden N] [--no-shortcut] [--features N] [--min-df N]\n"
"                     [--window N]\n"
"                     [--ngrams N] [--accents keep|strip|both] [--no-augment]\n"
"                     [--from-mail LABEL=FOLDER]... [--dev-from-mail LABEL=FOLDER]...\n"
"                     [FILE...]\n\n"
"Trains a model from labeled items: JSON Lines {\"title\",\"text\",\"labels\"}\n"
"or fastText lines \"__label__a __label__b text\", and mail folders (see\n"
"--from-mail). Per-label thresholds and the epoch are chosen on the dev\n"
"files (default: a fixed 15%% of the data).\n"
"The model directory is replaced atomically. Training is deterministic for\n"
"a given --seed. Progress goes to stderr when it is a terminal.\n\n"
"  -o, --output DIR   model directory to write\n"
"  --dev FILE         dev split (repeatable)\n"
"  --from-mail LABEL=FOLDER\n"
"                     every message of FOLDER (an mbox file or a Maildir) is a\n"
"                     training item labeled LABEL, its text read as `newstag\n"
"                     mail` reads it; none=FOLDER (or =FOLDER): mail with no\n"
"                     topic. A message in several folders (same Message-ID, or\n"
"                     same text) gets all their labels. Repeatable; a summary\n"
"                     line per folder goes to stderr\n"
"  --dev-from-mail LABEL=FOLDER\n"
"                     the same for the dev split\n"
"  --seed N           random seed (default 1)\n"
"  --epochs N         most training epochs (default 60)\n"
"  --hidden N         hidden neurons (default 24)\n"
"  --no-shortcut      a plain layered network: the outputs see only the\n"
"                     hidden layer, not also the inputs directly\n"
"  --features N       vocabulary size (default 6000)\n"
"  --window N         a text longer than N syllables is also scored in\n"
"                     windows of N syllables; each label takes its highest\n"
"                     score (default 250; 0: whole texts only)\n"
"  --min-df N         least items an n-gram must occur in (default 2)\n"
"  --ngrams N         longest n-gram, 1-3 (default 2)\n"
"  --accents MODE     features from accented, accent-free or both forms\n"
"                     (default both)\n"
"  --no-augment       do not add accent-free copies of training items\n"
"  --accent-free-share S\n"
"                     instead of adding accent-free copies, train a share S\n"
"                     (0-1) of the items on their accent-free form only:\n"
"                     half the rows, so an epoch takes half the time\n"
"  --no-oov-norm      unknown n-grams do not weaken an item's vector\n"
"  --hash N           feature hashing into N inputs instead of a vocabulary\n"
"  --margin M         train towards M and 1-M instead of 0 and 1 (default 0)\n"
"  --decay D          L2 weight decay per training row (default 0)\n"
"  --average N        write the mean weights of the best epoch and the N-1\n"
"                     epochs before it (default 1: the best epoch alone)\n"
"  --weighting W      logtf-idf (default), logtf, binary-idf or binary\n"
"  --init MODEL       continue training from MODEL (its features, network\n"
"                     and labels kept) when the data's labels are all its\n"
"                     labels; otherwise say why and train from scratch\n"
"  --balance MODE     oversample (default): repeat the items of labels rarer\n"
"                     than the median label; none: use every item once\n");
}

static void progress(void *user, unsigned epoch, double mse, double f1)
{
    (void)user;
    fprintf(stderr, "\repoch %3u  loss %.5f  dev micro-F1 %.4f", epoch, mse, f1);
    fflush(stderr);
}

static void print_notice(void *user, const char *text)
{
    (void)user;
    fprintf(stderr, "newstag: %s\n", text);
}

static int read_files(newstag_dataset *ds, char **files, int n)
{
    newstag_error err;
    int i;

    for (i = 0; i < n; i++)
        if (newstag_dataset_read_file(ds, files[i], &err) < 0) {
            cli_error("%s", err.text);
            return cli_exit_code(&err) == EX_IOERR ? EX_NOINPUT : EX_DATAERR;
        }
    return 0;
}

/* Note a --from-mail / --dev-from-mail folder; -1 after printing why. */
static int add_mail_folder(char **list, int *n, char *spec, const char *option)
{
    if (*n == MAX_MAIL_FOLDERS) {
        cli_error("too many %s folders (at most %d)", option, MAX_MAIL_FOLDERS);
        return -1;
    }
    if (cli_mail_check_spec(spec, option) < 0)
        return -1;
    list[(*n)++] = spec;
    return 0;
}

static int parse_uint(const char *s, unsigned *out, unsigned min, unsigned max,
                      const char *name)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (*end || !*s || v < min || v > max) {
        cli_error("--%s takes a number from %u to %u", name, min, max);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* A number in [0, below). */
static int parse_fraction(const char *s, float *out, float below, const char *name)
{
    char *end;
    float v = strtof(s, &end);

    if (*end || !*s || !(v >= 0 && v < below)) {
        cli_error("--%s takes a number in [0, %g)", name, (double)below);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"dev", required_argument, 0, 'd'},
        {"seed", required_argument, 0, 's'}, {"epochs", required_argument, 0, 'e'},
        {"hidden", required_argument, 0, 'H'}, {"features", required_argument, 0, 'F'},
        {"min-df", required_argument, 0, 'M'}, {"ngrams", required_argument, 0, 'n'},
        {"accents", required_argument, 0, 'a'}, {"no-augment", no_argument, 0, 'A'},
        {"no-oov-norm", no_argument, 0, 'O'}, {"hash", required_argument, 0, 'X'},
        {"margin", required_argument, 0, 'G'}, {"weighting", required_argument, 0, 'W'},
        {"decay", required_argument, 0, 'Y'}, {"average", required_argument, 0, 'V'},
        {"accent-free-share", required_argument, 0, 'S'},
        {"init", required_argument, 0, 'I'}, {"balance", required_argument, 0, 'B'},
        {"no-shortcut", no_argument, 0, 'L'}, {"window", required_argument, 0, 'w'},
        {"from-mail", required_argument, 0, OPT_FROM_MAIL},
        {"dev-from-mail", required_argument, 0, OPT_DEV_FROM_MAIL},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    newstag_train_options opt;
    const char *out = NULL;
    char *devs[64], *mails[MAX_MAIL_FOLDERS], *dev_mails[MAX_MAIL_FOLDERS];
    int ndev = 0, nmail = 0, ndev_mail = 0, c, rc;
    newstag_dataset *train, *dev = NULL;
    newstag_error err;

    newstag_train_options_init(&opt);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'o': out = optarg; break;
        case 'd':
            if (ndev == 64) {
                cli_error("too many --dev files");
                return EX_USAGE;
            }
            devs[ndev++] = optarg;
            break;
        case 's': bad = parse_uint(optarg, &opt.seed, 0, 0xFFFFFFFFu, "seed"); break;
        case 'e': bad = parse_uint(optarg, &opt.epochs, 1, 100000, "epochs"); break;
        case 'H': bad = parse_uint(optarg, &opt.hidden, 1, 1024, "hidden"); break;
        case 'w': bad = parse_uint(optarg, &opt.window, 0, 1000000, "window"); break;
        case 'F': bad = parse_uint(optarg, &opt.max_features, 1, 1000000, "features"); break;
        case 'M': bad = parse_uint(optarg, &opt.min_df, 1, 1000000, "min-df"); break;
        case 'n': bad = parse_uint(optarg, &opt.ngram_max, 1, 3, "ngrams"); break;
        case 'a':
            if (strcmp(optarg, "keep") == 0) opt.accents = NEWSTAG_ACCENTS_KEEP;
            else if (strcmp(optarg, "strip") == 0) opt.accents = NEWSTAG_ACCENTS_STRIP;
            else if (strcmp(optarg, "both") == 0) opt.accents = NEWSTAG_ACCENTS_BOTH;
            else { cli_error("--accents takes keep, strip or both"); bad = -1; }
            break;
        case 'A': opt.augment = 0; break;
        case 'I': opt.init_model = optarg; break;
        case 'B':
            if (strcmp(optarg, "oversample") == 0) opt.balance = NEWSTAG_BALANCE_OVERSAMPLE;
            else if (strcmp(optarg, "none") == 0) opt.balance = NEWSTAG_BALANCE_NONE;
            else { cli_error("--balance takes oversample or none"); bad = -1; }
            break;
        case 'O': opt.oov_norm = 0; break;
        case 'L': opt.shortcut = 0; break;
        case 'X': bad = parse_uint(optarg, &opt.hash_buckets, 1, 1000000, "hash"); break;
        case 'W':
            opt.binary_tf = strncmp(optarg, "binary", 6) == 0;
            opt.no_idf = strstr(optarg, "-idf") == NULL;
            if (strcmp(optarg, "logtf-idf") && strcmp(optarg, "logtf") &&
                strcmp(optarg, "binary-idf") && strcmp(optarg, "binary")) {
                cli_error("--weighting takes logtf-idf, logtf, binary-idf or binary");
                bad = -1;
            }
            break;
        case 'G': bad = parse_fraction(optarg, &opt.target_margin, 0.5f, "margin"); break;
        case 'Y': bad = parse_fraction(optarg, &opt.weight_decay, 1, "decay"); break;
        case 'S': bad = parse_fraction(optarg, &opt.accent_free_share, 1, "accent-free-share"); break;
        case 'V': bad = parse_uint(optarg, &opt.average_epochs, 1, 100, "average"); break;
        case OPT_FROM_MAIL:
            bad = add_mail_folder(mails, &nmail, optarg, "--from-mail");
            break;
        case OPT_DEV_FROM_MAIL:
            bad = add_mail_folder(dev_mails, &ndev_mail, optarg, "--dev-from-mail");
            break;
        case 'h': help(); return 0;
        default: return EX_USAGE;
        }
        if (bad)
            return EX_USAGE;
    }
    if (!out || (optind >= argc && nmail == 0)) {
        cli_error("train needs -o MODEL and at least one data file or --from-mail "
                  "folder (see --help)");
        return EX_USAGE;
    }
    if (isatty(STDERR_FILENO))
        opt.progress = progress;
    opt.notice = print_notice;
    train = newstag_dataset_new();
    if (ndev || ndev_mail)
        dev = newstag_dataset_new();
    if (!train || ((ndev || ndev_mail) && !dev)) {
        cli_error("out of memory");
        return EX_OSERR;
    }
    rc = read_files(train, argv + optind, argc - optind);
    if (rc == 0)
        rc = cli_mail_read_folders(train, mails, nmail, "--from-mail");
    if (rc == 0 && dev)
        rc = read_files(dev, devs, ndev);
    if (rc == 0 && dev)
        rc = cli_mail_read_folders(dev, dev_mails, ndev_mail, "--dev-from-mail");
    if (rc == 0 && newstag_train(train, dev, &opt, out, &err) < 0) {
        if (opt.progress)
            fputc('\n', stderr);
        cli_error("training failed: %s", err.text);
        rc = cli_exit_code(&err);
    } else if (rc == 0 && opt.progress) {
        fprintf(stderr, "\nwrote %s\n", out);
    }
    newstag_dataset_free(train);
    newstag_dataset_free(dev);
    return rc;
}

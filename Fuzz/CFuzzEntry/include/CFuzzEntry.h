#ifndef VETO_CFUZZENTRY_H
#define VETO_CFUZZENTRY_H
// Nothing to import: this module only supplies the executable's entry point (entry.c).
#endif

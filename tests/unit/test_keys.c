/* placeholder until the module lands: reports skipped, never passed */
int main(void) { return 77; }

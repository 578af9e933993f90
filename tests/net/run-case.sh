#!/bin/sh
# Runs one namespace test case with the jvpn binary under test.
# Usage: run-case.sh JVPN CASE.sh
JVPN=$1
export JVPN
exec bash "$2"

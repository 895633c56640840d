#!/bin/bash
# usage: run_sample.sh NAME NAMED_PROFILE FILE...
cd "$(dirname "$0")/../.."
B=${CALLSIFT:-target/release/callsift}
NAME=$1; PROF=$2; shift 2
OUT=${OUT:-target/validity}; mkdir -p "$OUT/logs"
WH=$OUT/wh-$NAME
L=$OUT/logs/$NAME.log
rm -rf $WH
{
echo "### $NAME  files: $*"
echo "\$ $B ingest --profile auto --quiet --warehouse $WH $*"
$B ingest --profile auto --quiet --warehouse $WH "$@" 2>&1; rc=$?
echo "[rc=$rc]"
if [ $rc -ne 0 ]; then
  rm -rf $WH
  echo "\$ $B ingest --profile $PROF --quiet --warehouse $WH $*"
  $B ingest --profile $PROF --quiet --warehouse $WH "$@" 2>&1; echo "[rc=$?]"
fi
echo "\$ $B tag --warehouse $WH --scenarios all"
$B tag --warehouse $WH --scenarios all 2>&1; rc=$?
echo "[rc=$rc]"
if [ $rc -ne 0 ]; then
  echo "\$ $B tag --warehouse $WH --scenarios all --allow-unmapped"
  $B tag --warehouse $WH --scenarios all --allow-unmapped 2>&1; echo "[rc=$?]"
fi
echo "\$ $B report sizing --warehouse $WH --format csv"
$B report sizing --warehouse $WH --format csv 2>&1; echo "[rc=$?]"
echo "\$ $B sql --warehouse $WH \"SELECT category_source, count(*) FROM calls GROUP BY 1\""
$B sql --warehouse $WH "SELECT category_source, count(*) FROM calls GROUP BY 1" 2>&1
echo "\$ $B sql --warehouse $WH \"SELECT count(*) FILTER (WHERE NOT self_initiated) FROM calls\""
$B sql --warehouse $WH "SELECT count(*) FILTER (WHERE NOT self_initiated) FROM calls" 2>&1
echo "\$ $B sql --warehouse $WH \"SELECT count(*) FROM calls\""
$B sql --warehouse $WH "SELECT count(*) FROM calls" 2>&1
} > $L
cat $L

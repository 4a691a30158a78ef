#!/bin/sh
# /usr/bin/strongroom: run the self-contained bundle in /opt/strongroom.
exec /opt/strongroom/strongroom "$@"

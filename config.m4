dnl The PHP build: `phpize && ./configure && make` at the repository root
dnl builds modules/smtpcore.so from the C core (every csrc/**/*.c except the
dnl command-line tool in csrc/cli/) and the PHP glue (bindings/php/*.c).
dnl Tests: `make test TESTS=tests/php` (tests/php/run.sh does everything).

PHP_ARG_ENABLE([smtpcore],
  [whether to enable smtpcore (send email over SMTP)],
  [AS_HELP_STRING([--disable-smtpcore], [Do not build the smtpcore extension])],
  [yes])

if test "$PHP_SMTPCORE" != "no"; then
  PKG_CHECK_MODULES([SMTPCORE_OPENSSL], [openssl >= 1.1.1])
  PKG_CHECK_MODULES([SMTPCORE_IDN2], [libidn2])
  PHP_EVAL_INCLINE([$SMTPCORE_OPENSSL_CFLAGS $SMTPCORE_IDN2_CFLAGS])
  PHP_EVAL_LIBLINE([$SMTPCORE_OPENSSL_LIBS $SMTPCORE_IDN2_LIBS], SMTPCORE_SHARED_LIBADD)

  PHP_CHECK_LIBRARY([pthread], [pthread_mutex_lock],
    [PHP_ADD_LIBRARY([pthread], [1], SMTPCORE_SHARED_LIBADD)],
    [AC_MSG_ERROR([smtpcore needs POSIX threads (the session pool)])])

  dnl The source list is globbed now, when configure runs, so files added to
  dnl the core are picked up without editing this file (as CMake's GLOB does).
  AC_MSG_CHECKING([for the smtpcore sources])
  smtpcore_sources=`cd "$abs_srcdir" && find csrc bindings/php -name '*.c' ! -path 'csrc/cli/*' \
    | LC_ALL=C sort | tr '\n' ' '`
  if test -z "$smtpcore_sources"; then
    AC_MSG_ERROR([no sources under $abs_srcdir/csrc: run phpize and configure at the repository root])
  fi
  smtpcore_count=`echo $smtpcore_sources | wc -w | tr -d ' '`
  AC_MSG_RESULT([$smtpcore_count files])

  dnl Transports built on libcurl (csrc/transport/) link it when they exist.
  if (cd "$abs_srcdir" && grep -l '<curl/curl.h>' $smtpcore_sources) >/dev/null 2>&1; then
    PKG_CHECK_MODULES([SMTPCORE_CURL], [libcurl])
    PHP_EVAL_INCLINE([$SMTPCORE_CURL_CFLAGS])
    PHP_EVAL_LIBLINE([$SMTPCORE_CURL_LIBS], SMTPCORE_SHARED_LIBADD)
  fi

  PHP_SUBST(SMTPCORE_SHARED_LIBADD)

  dnl The core is C11 with POSIX.1-2008; PHP's headers compile under the same.
  SMTPCORE_CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I@ext_srcdir@/csrc/include -I@ext_srcdir@/csrc"
  PHP_NEW_EXTENSION([smtpcore], [$smtpcore_sources], [$ext_shared], [], [$SMTPCORE_CFLAGS])

  dnl make regenerates bindings/php/smtpcore_arginfo.h when the stub is newer,
  dnl with build/gen_stub.php, which would download PHP-Parser: point it at
  dnl Debian's php-parser package instead when that is installed.
  smtpcore_parser_version=`sed -n 's/^ *\$version = "\(.*\)";/\1/p' "$abs_srcdir/build/gen_stub.php" 2>/dev/null | head -n 1`
  if test -n "$smtpcore_parser_version" && test -d /usr/share/php/PhpParser &&
     test ! -e "$abs_srcdir/build/PHP-Parser-$smtpcore_parser_version"; then
    mkdir -p "$abs_srcdir/build/PHP-Parser-$smtpcore_parser_version/lib" &&
      ln -s /usr/share/php/PhpParser "$abs_srcdir/build/PHP-Parser-$smtpcore_parser_version/lib/PhpParser"
  fi

  for smtpcore_dir in `for f in $smtpcore_sources; do dirname "$f"; done | LC_ALL=C sort -u`; do
    PHP_ADD_BUILD_DIR([$ext_builddir/$smtpcore_dir])
  done
fi

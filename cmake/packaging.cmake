# packaging.cmake: what `cmake --install` lays out besides the binary, the
# Lua library and the plugins (CMakeLists.txt), and the Debian package
# CPack builds from it (`./setup.sh package`, or `cpack -G DEB` in a build
# directory). With the default prefix /usr:
#
#   /usr/bin/switchboard
#   /usr/share/switchboard/{lua,plugins,sounds}
#   /usr/share/man/man8/switchboard.8.gz
#   /usr/lib/systemd/system/switchboard.service
#   /etc/switchboard/switchboard.conf.lua      (conffile: commented defaults)
#   /var/lib/switchboard                       (state; 0700, made by postinst)
#
# /etc and /var follow GNUInstallDirs: under a prefix other than /usr they
# are PREFIX/etc and PREFIX/var. The package's maintainer scripts are in
# packaging/debian/.

set(SB_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/switchboard")
set(SB_STATEDIR "${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/switchboard")
set(SB_BINARY "${CMAKE_INSTALL_FULL_BINDIR}/switchboard")
set(SB_PKG_DIR "${CMAKE_SOURCE_DIR}/packaging")
set(SB_PKG_GEN "${CMAKE_BINARY_DIR}/packaging")

# Folder for prompts that `file://` Play URLs may read once media.root
# points at it (empty in the package).
install(DIRECTORY DESTINATION ${CMAKE_INSTALL_DATADIR}/switchboard/sounds)

# The configuration, the unit and the maintainer scripts name the paths of
# this prefix: filled in from templates.
configure_file(${SB_PKG_DIR}/switchboard.conf.lua.in
               ${SB_PKG_GEN}/switchboard.conf.lua @ONLY)
configure_file(${SB_PKG_DIR}/switchboard.service.in
               ${SB_PKG_GEN}/switchboard.service @ONLY)
configure_file(${SB_PKG_DIR}/debian/postinst.in ${SB_PKG_GEN}/debian/postinst @ONLY)
configure_file(${SB_PKG_DIR}/debian/prerm.in ${SB_PKG_GEN}/debian/prerm @ONLY)
configure_file(${SB_PKG_DIR}/debian/postrm.in ${SB_PKG_GEN}/debian/postrm @ONLY)
file(WRITE ${SB_PKG_GEN}/debian/conffiles "${SB_CONFDIR}/switchboard.conf.lua\n")
foreach(script postinst prerm postrm)
  file(CHMOD ${SB_PKG_GEN}/debian/${script} PERMISSIONS OWNER_READ OWNER_WRITE
       OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()

install(FILES ${SB_PKG_GEN}/switchboard.conf.lua DESTINATION ${SB_CONFDIR}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${SB_PKG_GEN}/switchboard.service
        DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
# The state folder itself; the package's postinst gives it to the
# switchboard user with mode 0700 (a plain `cmake --install` run as root
# leaves that to the operator, README "Install").
install(DIRECTORY DESTINATION ${SB_STATEDIR}
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

# The man page, compressed as Debian ships them.
find_program(GZIP_EXECUTABLE gzip)
if(GZIP_EXECUTABLE)
  add_custom_command(OUTPUT ${SB_PKG_GEN}/switchboard.8.gz
    COMMAND ${GZIP_EXECUTABLE} -9n -c ${SB_PKG_DIR}/switchboard.8
            > ${SB_PKG_GEN}/switchboard.8.gz
    DEPENDS ${SB_PKG_DIR}/switchboard.8 VERBATIM)
  add_custom_target(switchboard_man ALL DEPENDS ${SB_PKG_GEN}/switchboard.8.gz)
  install(FILES ${SB_PKG_GEN}/switchboard.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
else()
  install(FILES ${SB_PKG_DIR}/switchboard.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
endif()

# ---- the Debian package ----------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME switchboard)
set(CPACK_PACKAGE_VENDOR "Switchboard")
set(CPACK_PACKAGE_CONTACT "Switchboard maintainers <switchboard@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "programmable-voice server (SIP, RCML, Restcomm-compatible REST, Lua)")
set(CPACK_PACKAGE_DESCRIPTION
    "Switchboard speaks SIP to phones and carriers, runs RCML call-control\napplications and is managed through a REST API compatible with Restcomm\nConnect's. Policy lives in Lua plugins that can be changed on a live\nserver.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Absolute destinations (/etc, /var) go into the staging tree, never the
# real root: CPack installs with DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages, found by dpkg-shlibdeps; then what the
# maintainer scripts and the server use at run time (espeak-ng's voices,
# useradd from passwd).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "espeak-ng-data, passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pocketsphinx-en-us")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${SB_PKG_GEN}/debian/conffiles ${SB_PKG_GEN}/debian/postinst
    ${SB_PKG_GEN}/debian/prerm ${SB_PKG_GEN}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
# cpack (and `make install`) install what is built, without building first:
# a test packs the build it is testing while other tests run its binary.
# `./setup.sh package` builds before it packs.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

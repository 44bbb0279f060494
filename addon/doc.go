// Package addon is the Home Assistant add-on of fitbridge: config.yaml, the
// Dockerfile and its build script, the AppArmor profile, translations,
// documentation and pictures. The Supervisor reads these files from this
// folder. The package has no Go code of its own; its tests check the files
// against the Supervisor's and the add-on linter's rules.
package addon

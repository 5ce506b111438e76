package release

import (
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"fmt"
	"os"
)

// checkExecutable reports why the file at p is not an executable for
// goos/goarch, or nil when its header (ELF, Mach-O or PE) and machine type
// match. It does not run the file.
func checkExecutable(p, goos, goarch string) error {
	platform := goos + "/" + goarch
	switch goos {
	case "darwin":
		return checkMachO(p, goarch, platform)
	case "windows":
		return checkPE(p, goarch, platform)
	default:
		return checkELF(p, goarch, platform)
	}
}

var elfMachines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"386":     elf.EM_386,
	"arm":     elf.EM_ARM,
	"riscv64": elf.EM_RISCV,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"loong64": elf.EM_LOONGARCH,
}

func checkELF(p, goarch, platform string) error {
	f, err := elf.Open(p)
	if err != nil {
		return fmt.Errorf("%s is not an executable for %s (not an ELF file: %v)", p, platform, err)
	}
	defer f.Close()
	want, ok := elfMachines[goarch]
	if !ok {
		return fmt.Errorf("cannot check executables for architecture %s", goarch)
	}
	if f.Machine != want {
		return fmt.Errorf("%s is an ELF executable for %s, not for %s", p, machineName(f.Machine), platform)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%s is an ELF %s, not an executable", p, f.Type)
	}
	return nil
}

func machineName(m elf.Machine) string {
	for arch, em := range elfMachines {
		if em == m {
			return arch
		}
	}
	return m.String()
}

var machoCPUs = map[string]macho.Cpu{
	"amd64": macho.CpuAmd64,
	"arm64": macho.CpuArm64,
}

func checkMachO(p, goarch, platform string) error {
	want, ok := machoCPUs[goarch]
	if !ok {
		return fmt.Errorf("cannot check executables for darwin/%s", goarch)
	}
	if f, err := macho.Open(p); err == nil {
		defer f.Close()
		if f.Cpu != want {
			return fmt.Errorf("%s is a Mach-O executable for %s, not for %s", p, f.Cpu, platform)
		}
		if f.Type != macho.TypeExec {
			return fmt.Errorf("%s is a Mach-O file of type %d, not an executable", p, f.Type)
		}
		return nil
	}
	ff, err := macho.OpenFat(p)
	if err != nil {
		return fmt.Errorf("%s is not an executable for %s (not a Mach-O file)", p, platform)
	}
	defer ff.Close()
	for _, a := range ff.Arches {
		if a.Cpu == want && a.Type == macho.TypeExec {
			return nil
		}
	}
	return fmt.Errorf("%s is a universal Mach-O file without a %s executable", p, platform)
}

var peMachines = map[string]uint16{
	"amd64": pe.IMAGE_FILE_MACHINE_AMD64,
	"arm64": pe.IMAGE_FILE_MACHINE_ARM64,
	"386":   pe.IMAGE_FILE_MACHINE_I386,
}

func checkPE(p, goarch, platform string) error {
	want, ok := peMachines[goarch]
	if !ok {
		return fmt.Errorf("cannot check executables for windows/%s", goarch)
	}
	f, err := pe.Open(p)
	if err != nil {
		return fmt.Errorf("%s is not an executable for %s (not a PE file: %v)", p, platform, err)
	}
	defer f.Close()
	if f.Machine != want {
		return fmt.Errorf("%s is a PE executable for machine %#x, not for %s", p, f.Machine, platform)
	}
	if f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
		return fmt.Errorf("%s is a PE file but not an executable image", p)
	}
	return nil
}

// isExecutableMode reports whether someone may execute the file (always true
// on Windows, where there are no mode bits).
func isExecutableMode(fi os.FileInfo, goos string) bool {
	return goos == "windows" || fi.Mode().Perm()&0o111 != 0
}

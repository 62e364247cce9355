package instanceops

import (
	"os"
	"testing"

	"github.com/ganetimgr/ganetimgr/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
